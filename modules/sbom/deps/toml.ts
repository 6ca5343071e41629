/**
 * TOML files read with smol-toml, failures reported with the file and line.
 */
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { ModelshipError } from '../../errors/index.js';

export async function readToml(file: string, display: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8');
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const line = err instanceof TomlError ? `:${err.line}` : '';
    throw new ModelshipError('SBOM_DEPS_INVALID', `${display}${line}: not valid TOML (${(err as Error).message.split('\n')[0]}); fix the file`, { cause: err });
  }
}

export function table(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
