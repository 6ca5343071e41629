/**
 * `modelship unpack REF -d DIR`: write a model's files into a folder, safely and verified.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { parseUnpackFilter, unpack } from '../../modelpack/index.js';
import { openArtifact, openStore } from '../../store/index.js';
import { flagList, flagString, type Command } from '../command.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

const USAGE = 'unpack REF -d DIR [--filter weights|config|docs|code|datasets[:PATH]]... [--max-ratio N]';

export const command: Command = {
  name: 'unpack',
  summary: 'Unpack a model (ModelPack, ModelKit, Docker, Ollama) into a folder',
  usage: USAGE,
  help: `Writes the files of the model REF names into DIR. REF is a store reference, an
oci:PATH:TAG layout, or a registry reference (pulled into the store first).
Safe by construction: absolute paths, "..", links, devices, FIFOs and duplicate paths are refused,
nothing is written outside DIR, and files appear only after their layer's digest checked out
(an interrupted unpack leaves no half-written file). --filter picks kinds of files, repeatable,
optionally narrowed to a path.
A compressed layer may expand to at most --max-ratio times its stored size (default 100, and
always at least 256 MiB), which stops decompression bombs; --max-ratio 0 lifts the limit.

${REFERENCE_FORMS_HELP}

Examples:
  modelship unpack llama:v1 -d ./llama
  modelship unpack 127.0.0.1:5000/models/llama:v1 -d ./weights --filter weights --plain-http
  modelship unpack oci:./layout:v1 -d ./docs --filter docs:README.md --filter config
  modelship unpack oci:./zeros:v1 -d ./data --max-ratio 2000`,
  options: { dir: { type: 'string', short: 'd' }, filter: { type: 'string', multiple: true }, 'max-ratio': { type: 'string' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], USAGE);
    const dirFlag = flagString(ctx, 'dir');
    if (!dirFlag) throw new UsageError(`-d DIR is required.\nUsage: modelship ${USAGE}`);
    const filters = flagList(ctx, 'filter').map(parseUnpackFilter);
    const ratioFlag = flagString(ctx, 'max-ratio');
    if (ratioFlag !== undefined && !/^\d+$/.test(ratioFlag)) throw new UsageError(`--max-ratio takes a whole number (0 for no limit), got "${ratioFlag}"`);
    const store = openStore(ctx.env, ctx.cwd);
    const opened = await openArtifact(input!, { ...openContextOf(ctx, store), store });
    const dir = resolve(ctx.cwd, dirFlag);
    const result = await unpack(opened.target, opened.selector, dir, { filters, reporter: ctx.reporter, ...(ratioFlag === undefined ? {} : { maxRatio: Number(ratioFlag) }) });
    const json = { reference: opened.display, dir, format: result.format, files: result.files };
    return { json, text: `Unpacked ${result.files.length} file(s) of ${opened.display} (${result.format}) into ${dir}` };
  },
};
