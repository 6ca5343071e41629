/** `modelship example DIR`: write a tiny runnable model project to try every step offline. */
import path from 'node:path';
import { UsageError } from '../../errors/index.js';
import { writeExampleProject } from '../../example/index.js';
import { flagString, type Command, type CommandContext, type CommandResult } from '../command.js';

async function run(ctx: CommandContext): Promise<CommandResult> {
  if (ctx.args.length !== 1) throw new UsageError('give the folder to create, e.g. modelship example ./tiny-chat');
  const dir = path.resolve(ctx.cwd, ctx.args[0]!);
  const sentence = flagString(ctx, 'sentence');
  const project = await writeExampleProject(dir, sentence ? { sentence } : {});
  const text = [
    `wrote ${project.files.length} files to ${dir}`,
    ...project.files.map((f) => `  ${f}`),
    '',
    'Next:',
    `  modelship init ${ctx.args[0]}                 # describe it in modelship.yaml`,
    `  modelship pack ${ctx.args[0]} -t tiny-chat:v1 # pack it as a ModelPack artifact`,
    `  modelship serve tiny-chat:v1                  # OpenAI-compatible endpoint`,
  ].join('\n');
  return { json: project, text };
}

export const command: Command = {
  name: 'example',
  summary: 'Write a tiny example model project (real GGUF, cards, report) to try modelship offline',
  usage: 'example DIR [--sentence TEXT]',
  help: `Writes a complete model project into DIR (a new or empty folder): a 460 KiB llama GGUF whose
hand-set weights always answer one sentence, its model card (README.md), data card, technical
report, evaluation results and Apache-2.0 licence. It is a MOF Class III project, so every step
(init, pack, sbom, mof --require 3, sign, push, serve) works on it without any download.

Examples:
  modelship example ./tiny-chat
  modelship example ./tiny-chat --sentence "Hello from my pipeline."`,
  options: {
    sentence: { type: 'string' },
  },
  run,
};
