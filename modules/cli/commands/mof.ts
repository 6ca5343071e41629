/**
 * `modelship mof [DIR]`: the project's Model Openness Framework class, its MOT YAML, and a gate
 * (`--require N`); `modelship mof classify FILE`: the MOT's verdict on a MOT YAML file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { attachDocument, attachedLine, attachNeedsReference, documentSource, projectViewOfArtifact, withArtifactProject } from '../../attach/index.js';
import { classifyMot, meetsClass, mofReportDocument, ROMAN_CLASS, readProject, writeFileAtomic, type MofDerivation, type MofEvaluation, type ProjectView } from '../../card/index.js';
import { EXIT_STATUS, ModelshipError, UsageError } from '../../errors/index.js';
import { openReference } from '../../oci/index.js';
import { flagBoolean, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { parseRequire, projectSpecLoader, releaseDateFlag } from '../plumbing/documents.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

const ROMAN = ROMAN_CLASS;

function progressLine(e: Pick<MofEvaluation, 'progress'>): string {
  const pct = (n: number) => `${Math.round(n * 100) / 100}%`;
  return `progress: Class III ${pct(e.progress['3'])}, Class II ${pct(e.progress['2'])}, Class I ${pct(e.progress['1'])}`;
}

function evaluationText(e: MofEvaluation): string[] {
  const lines = [`${e.label}`, progressLine(e)];
  for (const cls of ['3', '2', '1'] as const) {
    const gaps = [...e.missing[cls].map((n) => `${n} (missing)`), ...e.invalid[cls].map((n) => `${n} (licence not open)`), ...e.unlicensed[cls].map((n) => `${n} (unlicensed)`)];
    if (gaps.length) lines.push(`Class ${ROMAN[Number(cls)]} lacks: ${[...new Set(gaps)].join(', ')}`);
  }
  if (e.notTypeAppropriate.length) lines.push(`open but not type-appropriate (counted, with a warning): ${e.notTypeAppropriate.join(', ')}`);
  return lines;
}

async function classify(ctx: CommandContext, file: string | undefined) {
  if (!file) throw new UsageError('mof classify needs a file: modelship mof classify FILE [--json]');
  const full = path.resolve(ctx.cwd, file);
  const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ModelshipError(err.code === 'ENOENT' ? 'SPEC_NOT_FOUND' : 'MOF_INVALID', `cannot read ${full}: ${err.message}`, { cause: err });
  });
  const e = classifyMot(text, file);
  return { json: e, text: evaluationText(e).join('\n') };
}

function derivationText(mof: MofDerivation, motFile: string | undefined): string[] {
  const lines = evaluationText(mof.evaluation);
  lines.push('', 'Components found:');
  for (const c of mof.components) lines.push(`  ${c.name.padEnd(32)} ${c.license}${c.open || c.license === 'unlicensed' ? '' : ' (not open)'}  ${c.files[0]}${c.files.length > 1 ? ` +${c.files.length - 1}` : ''}`);
  if (mof.toAdd.length) {
    lines.push('', 'To reach the next classes, add:');
    for (const m of mof.toAdd) lines.push(`  - ${m.name} (Class ${ROMAN[m.class]}): ${m.hint}`);
  }
  for (const w of mof.warnings) lines.push(`warning: ${w}`);
  if (motFile) lines.push('', `MOT YAML written to ${motFile}`);
  return lines;
}

/** The class, gaps and gate verdict of a project view, folder or artifact alike. */
async function report(ctx: CommandContext, view: ProjectView): Promise<CommandResult & { json: Record<string, unknown> }> {
  const require = parseRequire(flagString(ctx, 'require'), view.spec?.pipeline.mof?.require);
  const out = flagString(ctx, 'output');
  const motFile = out ? path.resolve(ctx.cwd, out) : undefined;
  if (motFile) await writeFileAtomic(motFile, view.mof.motYaml);
  const e = view.mof.evaluation;
  const passed = require === undefined ? undefined : meetsClass(e.class, require);
  const json = {
    class: e.class, label: e.label, progress: e.progress, missing: e.missing, invalid: e.invalid, unlicensed: e.unlicensed,
    notTypeAppropriate: e.notTypeAppropriate, components: view.mof.components, toAdd: view.mof.toAdd, warnings: view.mof.warnings,
    ...(motFile ? { motFile } : {}),
    ...(require !== undefined ? { gate: { require, passed, ...(passed ? {} : { code: 'GATE_FAILED' }) } } : {}),
  };
  const text = derivationText(view.mof, motFile);
  if (require !== undefined) {
    text.push('', passed
      ? `gate passed: ${e.label} meets --require ${require}`
      : `gate failed (GATE_FAILED): ${e.label} does not reach Class ${ROMAN[require]}; missing: ${view.mof.toAdd.filter((m) => m.class >= require).map((m) => m.name).join(', ') || 'see above'}`);
  }
  return { json, text: text.join('\n'), ...(passed === false ? { exitCode: EXIT_STATUS.gate } : {}) };
}

export const command = {
  name: 'mof',
  summary: 'Model Openness Framework class of a project or MOT file; --require N gates on it',
  usage: 'mof [DIR|REF] [--require 1|2|3] [-o mot.yaml] [--attach] | mof classify FILE',
  help: `Finds the MOF components in the project folder DIR (default: the current folder): weights,
architecture code, technical report or paper, evaluation results, model and data cards, training,
inference and evaluation code, datasets... with their licences (the spec's, per-file, LICENSE files,
Hugging Face ids mapped to SPDX), and evaluates them exactly as the Model Openness Tool does.
Prints the class, per-class progress and, for each missing component, what to add.

REF names a packed model instead (local store, oci:PATH:TAG or a registry): its files and kinds
come from the manifest, its licences from the ModelPack config, and only its small documents
(README, DATACARD, LICENSE files, evaluation results) are fetched, never the weights.
--attach puts the report on REF as a referrer (artifactType
application/vnd.modelship.mof.report.v1+json); "modelship discover REF" lists it.

--require N makes it a gate: exit status 9 unless the project reaches Class N or better
(Class I is the most open). Without --require, modelship.yaml's pipeline.mof.require applies.
-o FILE writes the MOT-importable YAML; --date YYYY-MM-DD sets its release date (default: the
artifact's createdAt for REF, else today), for output that does not change from day to day.

"mof classify FILE" evaluates a Model Openness Tool YAML file (as in the MOT's models/ folder).

${REFERENCE_FORMS_HELP}

Examples:
  modelship mof --require 3
  modelship mof ./my-model -o mot.yaml --json
  modelship mof 127.0.0.1:5000/models/tiny:1.0 --plain-http --require 3 --attach
  modelship mof classify Llama-3.1-8B.yml --json`,
  options: {
    require: { type: 'string' },
    output: { type: 'string', short: 'o' },
    date: { type: 'string' },
    attach: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    if (ctx.args[0] === 'classify') return classify(ctx, ctx.args[1]);
    if (ctx.args.length > 1) throw new UsageError(`mof takes one folder or reference, got ${ctx.args.length}: modelship mof [DIR|REF] [--require 1|2|3]`);
    const date = releaseDateFlag(ctx);
    const source = documentSource(ctx.cwd, ctx.args[0] ?? '.');
    if ('folder' in source) {
      if (flagBoolean(ctx, 'attach')) throw new UsageError(attachNeedsReference('mof'));
      return report(ctx, await readProject(source.folder, { loadSpec: projectSpecLoader, ...(date ? { date } : {}) }));
    }
    const opened = await openReference(source.reference, openContextOf(ctx));
    return withArtifactProject(opened.target, opened.selector, opened.display, async (project) => {
      const view = await projectViewOfArtifact(project, date ? { date } : {});
      const result = await report(ctx, view);
      if (!flagBoolean(ctx, 'attach')) return result;
      // The report is attached whether or not the gate passes: it is the record of the verdict.
      const referrer = await attachDocument(opened.target, project.view.descriptor, mofReportDocument(view.mof));
      return { ...result, json: { ...result.json, attached: [referrer] }, text: `${result.text}\n${attachedLine(referrer, opened, project.view.descriptor)}` };
    });
  },
} satisfies Command;
