/**
 * `modelship card [DIR]`: write the model card (README.md, Hugging Face format), the data card
 * (DATACARD.md) and the MOF badge, filled from the project; sections it cannot fill stay marked.
 */
import path from 'node:path';
import { attachDocument, attachedLine, attachNeedsReference, documentSource, projectViewOfArtifact, withArtifactProject } from '../../attach/index.js';
import { buildCardSet, dataCardDocument, modelCardDocument, readProject, writeCardSet, type CardSet, type ProjectView } from '../../card/index.js';
import { UsageError } from '../../errors/index.js';
import { openReference, type Descriptor } from '../../oci/index.js';
import { flagBoolean, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { projectSpecLoader, releaseDateFlag } from '../plumbing/documents.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

/** Cards written to `outDir` (when there is one), the MOF line and what is left to fill in. */
async function deliver(ctx: CommandContext, view: ProjectView, outDir: string | undefined, attached: (set: CardSet) => Promise<string[]>): Promise<CommandResult> {
  const set = buildCardSet(view, { html: flagBoolean(ctx, 'html') });
  const written = outDir ? await writeCardSet(set, outDir, { force: flagBoolean(ctx, 'force') }) : [];
  const attachedLines = await attached(set);
  const e = view.mof.evaluation;
  const text = [
    ...written.map((f) => `wrote ${path.relative(ctx.cwd, f) || f}`),
    ...attachedLines,
    `MOF: ${e.label}`,
    ...(set.unfilled.length ? [`${set.unfilled.length} sections left to fill in (search for "modelship: fill in"):`, ...set.unfilled.map((u) => `  - ${u}`)] : []),
    ...set.warnings.map((w) => `warning: ${w}`),
  ];
  return {
    json: { written, mof: { class: e.class, label: e.label, progress: e.progress }, unfilled: set.unfilled, warnings: set.warnings },
    // A reference with nowhere to put the cards prints the model card itself.
    text: !outDir && !attachedLines.length ? set.modelCard : text.join('\n'),
  };
}

export const command = {
  name: 'card',
  summary: 'Write the model card (README.md), data card (DATACARD.md) and MOF badge for a project',
  usage: 'card [DIR|REF] [-o OUTDIR] [--html] [--force] [--attach]',
  help: `Builds a Hugging Face model card (README.md with YAML front matter: license, language,
library_name, tags, datasets, base_model, pipeline_tag, model-index) and a data card (DATACARD.md)
from the project in DIR (default: the current folder): its spec, the ModelPack config fields, an
existing README's front matter (its keys are kept) and an evaluation results file (eval_results.json
or .yaml: lm-evaluation-harness output, a model-index, or a list of {dataset, metric, value}).
What modelship cannot know is left as "<!-- modelship: fill in: ... -->" blocks; nothing is made up.

Also writes mof-badge.svg (the MOF class) and, with --html, card.html (one self-contained page).
Cards go to OUTDIR (default: DIR). An existing README.md or DATACARD.md there is not replaced
unless --force is given. --date YYYY-MM-DD pins the release date in the MOF data (default: today).

REF names a packed model instead (local store, oci:PATH:TAG or a registry): the cards are filled
from its manifest, ModelPack config and small documents (never its weights). They are written only
with -o OUTDIR; --attach puts the model card and the data card on REF as referrers (artifactTypes
application/vnd.modelship.card.model.v1+markdown and application/vnd.modelship.card.data.v1+markdown).
With neither, the model card is printed.

${REFERENCE_FORMS_HELP}

Examples:
  modelship card -o build/cards --html
  modelship card ./my-model --force
  modelship card 127.0.0.1:5000/models/tiny:1.0 --plain-http --attach`,
  options: {
    output: { type: 'string', short: 'o' },
    html: { type: 'boolean' },
    force: { type: 'boolean' },
    date: { type: 'string' },
    attach: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    if (ctx.args.length > 1) throw new UsageError(`card takes one folder or reference, got ${ctx.args.length}: modelship card [DIR|REF] [-o OUTDIR]`);
    const date = releaseDateFlag(ctx);
    const output = flagString(ctx, 'output');
    const source = documentSource(ctx.cwd, ctx.args[0] ?? '.');
    if ('folder' in source) {
      if (flagBoolean(ctx, 'attach')) throw new UsageError(attachNeedsReference('card'));
      const view = await readProject(source.folder, { loadSpec: projectSpecLoader, ...(date ? { date } : {}) });
      return deliver(ctx, view, path.resolve(ctx.cwd, output ?? source.folder), async () => []);
    }
    const opened = await openReference(source.reference, openContextOf(ctx));
    return withArtifactProject(opened.target, opened.selector, opened.display, async (project) => {
      const view = await projectViewOfArtifact(project, date ? { date } : {});
      const referrers: Descriptor[] = [];
      const result = await deliver(ctx, view, output ? path.resolve(ctx.cwd, output) : undefined, async (set) => {
        if (!flagBoolean(ctx, 'attach')) return [];
        for (const doc of [modelCardDocument(set.modelCard), dataCardDocument(set.dataCard)]) {
          referrers.push(await attachDocument(opened.target, project.view.descriptor, doc));
        }
        return referrers.map((r) => attachedLine(r, opened, project.view.descriptor));
      });
      return referrers.length ? { ...result, json: { ...(result.json as object), attached: referrers } } : result;
    });
  },
} satisfies Command;
