/**
 * `modelship sbom [DIR] [--format cyclonedx|spdx] [-o FILE]`: an SBOM for a model project,
 * checked against the format's schema before it is written.
 */
import { existsSync, statSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasCode, ModelshipError, UsageError } from '../../errors/index.js';
import type { ModelSpec } from '../../spec/model-spec.js';
import {
  buildCycloneDx,
  buildSpdx,
  sbomInputFromProject,
  serializeSbom,
  validateCycloneDx,
  validateSpdx,
  SBOM_FORMATS,
  type SbomFormat,
  type SbomInput,
  type SbomSpec,
} from '../../sbom/index.js';
import { flagBoolean, flagString, type Command, type CommandContext } from '../command.js';

export interface SbomDocument {
  format: SbomFormat;
  document: Record<string, unknown>;
}

/** Builds and validates; an SBOM that fails its own schema is never handed out. */
export function buildSbom(input: SbomInput, format: SbomFormat): SbomDocument {
  const document = format === 'cyclonedx' ? buildCycloneDx(input) : buildSpdx(input);
  const errors = format === 'cyclonedx' ? validateCycloneDx(document) : validateSpdx(document);
  if (errors.length) {
    throw new ModelshipError('SBOM_INVALID', `the ${format} document built for this model does not validate:\n${errors.slice(0, 10).map((e) => `  ${e.path}: ${e.message}`).join('\n')}\nPlease report this with the project's spec file.`, { details: { errors } });
  }
  return { format, document };
}

/** The project's spec through modules/spec when it offers `loadSpec`; otherwise the folder speaks for itself. */
async function specOf(dir: string): Promise<SbomSpec> {
  const specModule = '../../spec/index.js';
  const loaded = (await import(specModule).catch(() => undefined)) as { loadSpec?: (dir: string) => Promise<ModelSpec> } | undefined;
  const bare: SbomSpec = { descriptor: { name: path.basename(dir) }, config: {}, files: [] };
  if (!loaded?.loadSpec) return bare;
  try {
    return await loaded.loadSpec(dir);
  } catch (err) {
    // A folder without a spec file is still a project: its files are classified by name.
    if (hasCode(err, 'SPEC_NOT_FOUND')) return bare;
    throw err;
  }
}

function formatOf(ctx: CommandContext): SbomFormat {
  const format = flagString(ctx, 'format') ?? 'cyclonedx';
  if (!SBOM_FORMATS.includes(format as SbomFormat)) throw new UsageError(`--format must be one of ${SBOM_FORMATS.join(', ')}, got "${format}"`);
  return format as SbomFormat;
}

/** Temp file then rename, so a reader never sees half an SBOM. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, file);
}

export const command: Command = {
  name: 'sbom',
  summary: 'Write a CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI SBOM for a model',
  usage: 'sbom [DIR] [--format cyclonedx|spdx] [-o FILE]',
  help: `Builds a software bill of materials for the model project in DIR (default: the current folder):
the model with its model card (task, architecture, evaluation results, limitations from README.md),
its datasets, every file with its SHA-256, and the code's dependencies (requirements.txt,
pyproject.toml, poetry.lock, uv.lock, Pipfile.lock, package.json, package-lock.json) with purls.
The document is validated against the official schema before it is written.

A folder has no manifest yet, so its files are hashed here (once each, streaming). Packed
artifacts take their digests from the manifest instead and are never re-hashed.

Options:
  --format cyclonedx|spdx   CycloneDX 1.6 JSON (default) or SPDX 3.0.1 JSON-LD
  -o, --output FILE         write the document to FILE instead of printing it
  --attach                  attach the SBOM to a packed artifact as a referrer (needs a REF)
  --json                    print the document as JSON

Examples:
  modelship sbom
  modelship sbom ./my-model --format spdx -o sbom.spdx.json`,
  options: {
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    attach: { type: 'boolean' },
  },
  async run(ctx) {
    const format = formatOf(ctx);
    if (ctx.args.length > 1) throw new UsageError(`expected at most one DIR, got ${ctx.args.length} arguments.\nUsage: modelship ${command.usage}`);
    const target = path.resolve(ctx.cwd, ctx.args[0] ?? '.');
    if (!existsSync(target) || !statSync(target).isDirectory()) {
      throw new ModelshipError('SBOM_INVALID', `${ctx.args[0] ?? '.'} is not a model project folder: give a folder (packed references are read by "modelship sbom" once packing is set up)`);
    }
    if (flagBoolean(ctx, 'attach')) {
      throw new UsageError('--attach needs a packed artifact: pack and push the model, then run "modelship sbom REF --attach"');
    }
    const input = await sbomInputFromProject(target, await specOf(target));
    const { document } = buildSbom(input, format);
    const bytes = serializeSbom(document);
    const output = flagString(ctx, 'output');
    if (output) {
      const file = path.resolve(ctx.cwd, output);
      await writeAtomically(file, bytes);
      return { json: document, text: `wrote ${path.relative(ctx.cwd, file) || file} (${format === 'cyclonedx' ? 'CycloneDX 1.6' : 'SPDX 3.0.1'}, ${input.files.length} files, ${input.dependencies?.length ?? 0} dependencies)` };
    }
    return { json: document, text: new TextDecoder().decode(bytes) };
  },
};
