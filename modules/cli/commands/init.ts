/**
 * `modelship init [DIR]`: describe an existing model folder in a new modelship.yaml, from what its
 * files are and what the weights, config.json and model card say.
 */
import path from 'node:path';
import { ModelshipError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { pathExists } from '../../fs/exists.js';
import { detectProject, MODELSHIP_FILE, MODELSHIP_SCHEMA_FILE, renderModelshipYaml, publishedSchemaUrl } from '../../project/index.js';
import { flagBoolean, type Command, type CommandContext, type CommandResult } from '../command.js';

async function run(ctx: CommandContext): Promise<CommandResult> {
  const dir = path.resolve(ctx.cwd, ctx.args[0] ?? '.');
  if (!(await pathExists(dir))) {
    throw new ModelshipError('SPEC_NOT_FOUND', `folder ${dir} does not exist: give the model project folder, e.g. modelship init ./my-model`);
  }
  const target = path.join(dir, MODELSHIP_FILE);
  const dryRun = flagBoolean(ctx, 'dry-run');
  const force = flagBoolean(ctx, 'force');
  const detection = await detectProject(dir);
  const yaml = renderModelshipYaml(detection.spec, { schemaRef: publishedSchemaUrl(MODELSHIP_SCHEMA_FILE) });
  if (dryRun) return { json: { spec: detection.spec, yaml, findings: detection.findings, missing: detection.missing }, text: yaml };
  if (!force && (await pathExists(target))) {
    throw new ModelshipError('SPEC_EXISTS', `${target} already exists: edit it, or run "modelship init --force" to replace it`);
  }
  await writeFileAtomic(target, yaml);
  const counts = ['weight', 'weightConfig', 'doc', 'code', 'dataset']
    .map((kind) => [kind, detection.spec.files.filter((f) => f.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  const lines = [
    `wrote ${target}`,
    `files: ${counts.join(', ') || 'none found'}`,
    ...detection.findings.map((f) => `  ${f}`),
    ...(detection.missing.length ? ['fill in by hand:', ...detection.missing.map((m) => `  ${m}`)] : []),
  ];
  return { json: { file: target, spec: detection.spec, findings: detection.findings, missing: detection.missing }, text: lines.join('\n') };
}

export const command: Command = {
  name: 'init',
  summary: 'Describe a model folder in a new modelship.yaml (files classified, metadata read)',
  usage: 'init [DIR] [--force] [--dry-run]',
  help: `
Walks DIR (default: the current folder), skipping .git, node_modules, hidden folders and the
patterns in .modelshipignore / .kitignore, and sorts each file into weights, weight config
(config.json, tokenizer files), docs, code and datasets. It reads the GGUF header, safetensors
headers, config.json and the README's model card metadata into the model fields (architecture,
format, paramSize, precision, quantization, licenses), writes modelship.yaml and lists what it
could not find. An existing modelship.yaml is kept unless --force (-f) replaces it.

Examples:
  modelship init                 describe the current folder
  modelship init ./model --dry-run   print the YAML without writing it
  modelship init --json          the spec as JSON`,
  options: {
    force: { type: 'boolean', short: 'f' },
    'dry-run': { type: 'boolean' },
  },
  run,
};
