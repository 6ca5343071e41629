/**
 * `modelship init [DIR]`: describe an existing model folder in a new modelship.yaml, from what its
 * files are and what the weights, config.json and model card say.
 */
import path from 'node:path';
import { ModelshipError, UsageError } from '../../errors/index.js';
import { createFromTemplate, UNKNOWN_REPOSITORY } from '../../example/template.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { pathExists } from '../../fs/exists.js';
import { detectProject, MODELSHIP_FILE, MODELSHIP_SCHEMA_FILE, renderModelshipYaml, publishedSchemaUrl } from '../../project/index.js';
import { flagBoolean, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';

/** `init --template NAME DIR`: a new project from a template, checked by its own pipeline settings. */
async function fromTemplate(ctx: CommandContext, name: string): Promise<CommandResult> {
  if (ctx.args.length !== 1) throw new UsageError(`give the folder to create, e.g. modelship init --template ${name} ./my-${name}`);
  const dir = path.resolve(ctx.cwd, ctx.args[0]!);
  const project = await createFromTemplate(name, dir, { git: !flagBoolean(ctx, 'no-git'), ...(ctx.invocation ? { invocation: ctx.invocation } : {}) });
  const lines = [
    `created ${dir} from the ${project.template} template (${project.files.length} files)`,
    ...(project.repository === UNKNOWN_REPOSITORY ? [`edit .github/workflows/model.yml and dagger.json: replace ${UNKNOWN_REPOSITORY} with the GitHub repository that holds modelship`] : []),
    '',
    'Next:',
    `  cd ${ctx.args[0]}`,
    '  modelship check            # pack, SBOMs, cards, MOF Class III gate, sign, verify',
    ...(name === 'pytorch' ? ['  python train.py            # train (or in a container: see Containerfile)'] : ['  npm install && npm start   # see README.md, "Run it"']),
  ];
  return { json: project, text: lines.join('\n') };
}

async function run(ctx: CommandContext): Promise<CommandResult> {
  const template = flagString(ctx, 'template');
  if (template !== undefined) return fromTemplate(ctx, template);
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
  usage: 'init [DIR] [--force] [--dry-run] | init --template chat|rag|agents|pytorch DIR [--no-git]',
  help: `
Walks DIR (default: the current folder), skipping .git, node_modules, hidden folders and the
patterns in .modelshipignore / .kitignore, and sorts each file into weights, weight config
(config.json, tokenizer files), docs, code and datasets. It reads the GGUF header, safetensors
headers, config.json and the README's model card metadata into the model fields (architecture,
format, paramSize, precision, quantization, licenses), writes modelship.yaml and lists what it
could not find. An existing modelship.yaml is kept unless --force (-f) replaces it.

--template NAME creates DIR (new or empty) from a template: a tiny real model (GGUF for chat, rag
and agents; safetensors for pytorch) with its model and data cards, report and licence, the
template's app, a Containerfile, a GitHub workflow, a dagger.json using the modelship module, and a
modelship.yaml requiring MOF Class III. It is a git repository with the pre-push hook installed
(--no-git skips both), and passes "modelship check" as it is.

Examples:
  modelship init                 describe the current folder
  modelship init ./model --dry-run   print the YAML without writing it
  modelship init --json          the spec as JSON
  modelship init --template chat ./my-chat`,
  options: {
    force: { type: 'boolean', short: 'f' },
    'dry-run': { type: 'boolean' },
    template: { type: 'string' },
    'no-git': { type: 'boolean' },
  },
  run,
};
