/**
 * What each step does, over the context. Each one calls the same module functions as the matching
 * command (`pack`, `sbom --attach`, `card --attach`, `mof --attach`, `sign`, `verify`, `push`).
 */
import { attachDocument, projectViewOfArtifact, sbomInputOfArtifact, withArtifactProject } from '../attach/index.js';
import { buildCardSet, dataCardDocument, gateGaps, meetsClass, modelCardDocument, mofReportDocument, ROMAN_CLASS, type MofDerivation } from '../card/index.js';
import { ModelshipError } from '../errors/index.js';
import { packModel } from '../modelpack/index.js';
import { copy } from '../oci/copy.js';
import { openReference } from '../oci/open.js';
import { buildSbom, sbomAttachment, SBOM_FORMATS } from '../sbom/index.js';
import { signArtifact, verifyArtifact } from '../sign/artifact/index.js';
import type { PipelineContext } from './context.js';
import type { StepName, StepOutcome } from './steps.js';

export type StepResult = Omit<StepOutcome, 'step' | 'seconds'>;
export type StepRunner = (ctx: PipelineContext) => Promise<StepResult>;

/** The file name each attached SBOM carries, as `modelship sbom --attach` names it. */
const SBOM_TITLES = { cyclonedx: 'sbom.cdx.json', spdx: 'sbom.spdx.json' } as const;

async function pack(ctx: PipelineContext): Promise<StepResult> {
  const result = await packModel(ctx.spec, ctx.store.layout, { tag: ctx.reference, cache: ctx.store.cache, reporter: ctx.reporter, ...(ctx.modelcar ? { modelcar: ctx.modelcar } : {}) });
  // A ModelCar's folder layer holds many files: count the files, not the layers.
  const files = result.files.reduce((n, f) => n + (f.entries?.length ?? 1), 0);
  return {
    status: 'passed',
    summary: `${ctx.reference} ${result.tagged.digest} (${files} files, ${result.stats.filesRead.length} read)`,
    data: { reference: ctx.reference, digest: result.tagged.digest, files, filesRead: result.stats.filesRead.length },
  };
}

/** Both SBOM formats, attached; counts come from the CycloneDX one. */
async function sbom(ctx: PipelineContext): Promise<StepResult> {
  return withArtifactProject(ctx.store.layout, ctx.reference, ctx.reference, async (project) => {
    const input = await sbomInputOfArtifact(project);
    const attached: Record<string, string> = {};
    for (const format of SBOM_FORMATS) {
      const built = buildSbom(input, format);
      const referrer = await attachDocument(ctx.store.layout, project.view.descriptor, sbomAttachment(built.document, format), { title: SBOM_TITLES[format] });
      attached[format] = referrer.digest;
    }
    const dependencies = input.dependencies?.length ?? 0;
    return {
      status: 'passed',
      summary: `CycloneDX 1.6 and SPDX 3.0.1 attached: ${input.files.length} files, ${dependencies} dependencies`,
      data: { files: input.files.length, dependencies, attached },
    };
  });
}

async function card(ctx: PipelineContext): Promise<StepResult> {
  return withArtifactProject(ctx.store.layout, ctx.reference, ctx.reference, async (project) => {
    const set = buildCardSet(await projectViewOfArtifact(project));
    const attached: string[] = [];
    for (const doc of [modelCardDocument(set.modelCard), dataCardDocument(set.dataCard)]) {
      attached.push((await attachDocument(ctx.store.layout, project.view.descriptor, doc)).digest);
    }
    const unfilled = set.unfilled.length;
    return {
      status: 'passed',
      summary: `model and data cards attached${unfilled ? ` (${unfilled} sections left to fill in: run "modelship card")` : ''}`,
      data: { attached, unfilled: set.unfilled },
    };
  });
}

/** The report is attached whatever the verdict: it is the record of the gate. */
async function mof(ctx: PipelineContext): Promise<StepResult> {
  return withArtifactProject(ctx.store.layout, ctx.reference, ctx.reference, async (project) => {
    const view = await projectViewOfArtifact(project);
    const e = view.mof.evaluation;
    const report = await attachDocument(ctx.store.layout, project.view.descriptor, mofReportDocument(view.mof));
    const data = { class: e.class, label: e.label, progress: e.progress, require: ctx.mofRequire ?? null, report: report.digest };
    if (ctx.mofRequire === undefined) return { status: 'passed', summary: `${e.label} (no gate: set pipeline.mof.require in modelship.yaml)`, data };
    if (meetsClass(e.class, ctx.mofRequire)) return { status: 'passed', summary: `${e.label} meets Class ${ROMAN_CLASS[ctx.mofRequire]}`, data };
    return {
      status: 'failed',
      summary: `${e.label} does not reach Class ${ROMAN_CLASS[ctx.mofRequire]} (GATE_FAILED)`,
      fix: gateFixes(view.mof, ctx.mofRequire),
      data: { ...data, code: 'GATE_FAILED' },
    };
  });
}

/** Missing components with the hint of what file to add; licence gaps as the gate names them. */
function gateFixes(mof: MofDerivation, require: 1 | 2 | 3): string[] {
  const hints = new Map(mof.toAdd.map((m) => [m.name, m.hint]));
  return gateGaps(mof.evaluation, require).map((line) => {
    const name = /^add (.+) \(missing\)$/.exec(line)?.[1];
    const hint = name ? hints.get(name) : undefined;
    return hint ? `${line}: ${hint}` : line;
  });
}

async function sign(ctx: PipelineContext): Promise<StepResult> {
  if (ctx.signing.kind === 'none') return { status: 'skipped', summary: `signing skipped: ${ctx.signing.reason}` };
  const repository = ctx.pushTo ? ctx.pushTo.replace(/[:@][^/]*$/, '') : undefined;
  // SLSA provenance of the pack, signed with the model: the project's commit, the spec's digest, the door that built it.
  const provenance = { projectDir: ctx.projectDir, env: ctx.env, ...(ctx.spec.source.file ? { specFile: ctx.spec.source.file } : {}) };
  const result = await signArtifact(ctx.store.layout, ctx.reference, ctx.signing.method, { provenance, ...(repository ? { repository } : {}) });
  return {
    status: 'passed',
    summary: `signed the local copy with ${ctx.signing.describe}: ${result.statement.predicate.resources.length} files, ${result.attached.length} referrers attached${ctx.pushTo ? '' : ' (push to publish)'}`,
    data: { method: ctx.signing.method.kind, digest: result.descriptor.digest, attached: result.attached.map((a) => a.referrer.digest) },
  };
}

async function verify(ctx: PipelineContext): Promise<StepResult> {
  if (ctx.signing.kind === 'none') return { status: 'skipped', summary: 'nothing to verify: the artifact was not signed' };
  if (!ctx.signing.policy) {
    return { status: 'skipped', summary: 'keyless signature not verified here: set MODELSHIP_TRUSTED_ROOT with pipeline.signing.identity and issuer (the cluster\'s admission policy verifies it)' };
  }
  const result = await verifyArtifact(ctx.store.layout, ctx.reference, ctx.signing.policy);
  const data = { digest: result.descriptor.digest, bundles: result.bundles.length };
  if (result.ok) return { status: 'passed', summary: `${result.bundles.length} bundles verified on ${result.descriptor.digest}`, data };
  return { status: 'failed', summary: `verification failed: ${result.reason ?? 'see "modelship verify"'} (VERIFY_FAILED)`, data: { ...data, code: 'VERIFY_FAILED' } };
}

async function push(ctx: PipelineContext): Promise<StepResult> {
  if (!ctx.pushTo) return { status: 'skipped', summary: 'no registry: kept in the local store (set pipeline.registry, or pack to HOST/REPO:TAG)' };
  const dst = await openReference(ctx.pushTo, { cwd: ctx.cwd, env: ctx.env, plainHttp: ctx.plainHttp, ...(ctx.caFile ? { caFile: ctx.caFile } : {}), reporter: ctx.reporter });
  if (dst.kind !== 'remote') throw new ModelshipError('USAGE', `the push destination must be a registry reference HOST/REPO:TAG, got "${ctx.pushTo}"`);
  const result = await copy(ctx.store.layout, ctx.reference, dst.target, dst.reference.tag ?? dst.selector, { reporter: ctx.reporter, referrers: true });
  return {
    status: 'passed',
    summary: `pushed to ${dst.display} ${result.root.digest}: ${result.copied} uploaded, ${result.skipped} already there`,
    data: { reference: dst.display, digest: result.root.digest, copied: result.copied, skipped: result.skipped, bytes: result.bytes },
  };
}

/** Hand-off needs a GitOps target; the door that has one supplies the runner. */
async function handoff(): Promise<StepResult> {
  return { status: 'skipped', summary: 'no GitOps repository: set pipeline.gitops.repository in modelship.yaml' };
}

export const STEP_RUNNERS: Record<StepName, StepRunner> = { pack, sbom, card, mof, sign, verify, push, handoff };
