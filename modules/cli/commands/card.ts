/**
 * `modelship card [DIR]`: write the model card (README.md, Hugging Face format), the data card
 * (DATACARD.md) and the MOF badge, filled from the project; sections it cannot fill stay marked.
 */
import path from 'node:path';
import { buildCardSet, readProject, writeCardSet } from '../../card/index.js';
import { UsageError } from '../../errors/index.js';
import { flagBoolean, flagString, type Command } from '../command.js';
import { projectSpecLoader, releaseDateFlag } from './mof.js';

export const command: Command = {
  name: 'card',
  summary: 'Write the model card (README.md), data card (DATACARD.md) and MOF badge for a project',
  usage: 'card [DIR] [-o OUTDIR] [--html] [--force]',
  help: `Builds a Hugging Face model card (README.md with YAML front matter: license, language,
library_name, tags, datasets, base_model, pipeline_tag, model-index) and a data card (DATACARD.md)
from the project in DIR (default: the current folder): its spec, the ModelPack config fields, an
existing README's front matter (its keys are kept) and an evaluation results file (eval_results.json
or .yaml: lm-evaluation-harness output, a model-index, or a list of {dataset, metric, value}).
What modelship cannot know is left as "<!-- modelship: fill in: ... -->" blocks; nothing is made up.

Also writes mof-badge.svg (the MOF class) and, with --html, card.html (one self-contained page).
Cards go to OUTDIR (default: DIR). An existing README.md or DATACARD.md there is not replaced
unless --force is given. --date YYYY-MM-DD pins the release date in the MOF data (default: today).

Examples:
  modelship card -o build/cards --html
  modelship card ./my-model --force`,
  options: {
    output: { type: 'string', short: 'o' },
    html: { type: 'boolean' },
    force: { type: 'boolean' },
    date: { type: 'string' },
  },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`card takes one folder, got ${ctx.args.length}: modelship card [DIR] [-o OUTDIR]`);
    const dir = path.resolve(ctx.cwd, ctx.args[0] ?? '.');
    const date = releaseDateFlag(ctx);
    const view = await readProject(dir, { loadSpec: projectSpecLoader, ...(date ? { date } : {}) });
    const set = buildCardSet(view, { html: flagBoolean(ctx, 'html') });
    const outDir = path.resolve(ctx.cwd, flagString(ctx, 'output') ?? dir);
    const written = await writeCardSet(set, outDir, { force: flagBoolean(ctx, 'force') });
    const e = view.mof.evaluation;
    const text = [
      ...written.map((f) => `wrote ${path.relative(ctx.cwd, f) || f}`),
      `MOF: ${e.label}`,
      ...(set.unfilled.length ? [`${set.unfilled.length} sections left to fill in (search for "modelship: fill in"):`, ...set.unfilled.map((u) => `  - ${u}`)] : []),
      ...set.warnings.map((w) => `warning: ${w}`),
    ];
    return {
      json: { written, mof: { class: e.class, label: e.label, progress: e.progress }, unfilled: set.unfilled, warnings: set.warnings },
      text: text.join('\n'),
    };
  },
};
