/**
 * `modelship sbom [DIR|REF] [--format cyclonedx|spdx] [-o FILE] [--attach]`: an SBOM for a model
 * project or a packed artifact, checked against the format's schema before it is written.
 */
import path from 'node:path';
import { attachDocument, attachedLine, attachNeedsReference, documentSource, sbomInputOfArtifact, withArtifactProject } from '../../attach/index.js';
import { UsageError } from '../../errors/index.js';
import { writeFileAtomic } from '../../card/index.js';
import { loadSpec } from '../../project/index.js';
import { openReference, type OpenedReference } from '../../oci/index.js';
import {
  buildSbom,
  sbomAttachment,
  sbomInputFromProject,
  serializeSbom,
  SBOM_FORMATS,
  type SbomArtifact,
  type SbomDocument,
  type SbomFormat,
} from '../../sbom/index.js';
import { flagBoolean, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

/** Now, or SOURCE_DATE_EPOCH when a reproducible build pins it. */
function nowOf(ctx: CommandContext): string {
  const epoch = ctx.env['SOURCE_DATE_EPOCH'];
  return (epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date()).toISOString();
}

function timestampOf(ctx: CommandContext): { timestamp?: string } {
  return flagBoolean(ctx, 'timestamp') ? { timestamp: nowOf(ctx) } : {};
}

/** Where a registry reference can be pulled from; a store or layout name has no such place. */
function registryOf(opened: OpenedReference): { registry?: NonNullable<SbomArtifact['registry']> } {
  if (opened.kind !== 'remote' || opened.reference.kind !== 'remote') return {};
  const { registry, repository, tag } = opened.reference;
  return { registry: { host: registry, repository, ...(tag ? { tag } : {}) } };
}

/** The file name an attached SBOM carries (`org.opencontainers.image.title`), what `oras pull` writes. */
const SBOM_FILE_NAMES: Record<SbomFormat, string> = { cyclonedx: 'sbom.cdx.json', spdx: 'sbom.spdx.json' };

function formatOf(ctx: CommandContext): SbomFormat {
  const format = flagString(ctx, 'format') ?? 'cyclonedx';
  if (!SBOM_FORMATS.includes(format as SbomFormat)) throw new UsageError(`--format must be one of ${SBOM_FORMATS.join(', ')}, got "${format}"`);
  return format as SbomFormat;
}

export const command = {
  name: 'sbom',
  summary: 'Write a CycloneDX 1.6 ML-BOM or SPDX 3.0.1 AI SBOM for a model',
  usage: 'sbom [DIR|REF] [--format cyclonedx|spdx] [-o FILE] [--attach]',
  help: `Builds a software bill of materials for the model project in DIR (default: the current folder)
or for a packed model artifact REF:
the model with its model card (task, architecture, evaluation results, limitations from README.md),
its datasets, every file with its SHA-256, and the code's dependencies (requirements.txt,
pyproject.toml, poetry.lock, uv.lock, Pipfile.lock, package.json, package-lock.json) with purls.
The document is validated against the official schema before it is written.

A folder has no manifest yet, so its files are hashed here (once each, streaming). A packed
artifact (REF: a store reference, oci:PATH:TAG or a registry) takes its file digests from the
manifest's layers (a raw layer is the file; a tar layer carries the file's digest as packing
recorded it) and its model facts from the ModelPack config; only the README, evaluation results
and dependency files are fetched: no weight is downloaded or hashed again. --attach needs a REF:
pack the folder first.

Options:
  --format cyclonedx|spdx   CycloneDX 1.6 JSON (default) or SPDX 3.0.1 JSON-LD
  -o, --output FILE         write the document to FILE instead of printing it
  --attach                  attach the SBOM to REF as a referrer (artifactType
                            application/vnd.cyclonedx+json or application/spdx+json)
  --timestamp               record the current time (left out of CycloneDX by default, so the
                            same model always gives the same bytes). SPDX requires a creation
                            time: the model's createdAt when packing recorded one, else now;
                            SOURCE_DATE_EPOCH pins "now" for reproducible builds
  --json                    print the document as JSON

${REFERENCE_FORMS_HELP}

Examples:
  modelship sbom
  modelship sbom ./my-model --format spdx -o sbom.spdx.json
  modelship sbom 127.0.0.1:5000/models/chat:1.0 --plain-http --attach`,
  options: {
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    attach: { type: 'boolean' },
    timestamp: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const format = formatOf(ctx);
    if (ctx.args.length > 1) throw new UsageError(`expected at most one DIR or REF, got ${ctx.args.length} arguments.\nUsage: modelship ${command.usage}`);
    const source = documentSource(ctx.cwd, ctx.args[0] ?? '.');
    if ('folder' in source) {
      if (flagBoolean(ctx, 'attach')) throw new UsageError(attachNeedsReference('sbom'));
      const input = { ...(await sbomInputFromProject(source.folder, await loadSpec(source.folder), timestampOf(ctx))), created: nowOf(ctx) };
      return deliver(ctx, buildSbom(input, format), `${input.files.length} files, ${input.dependencies?.length ?? 0} dependencies`);
    }
    const opened = await openReference(source.reference, openContextOf(ctx));
    return withArtifactProject(opened.target, opened.selector, opened.display, async (project) => {
      const input = await sbomInputOfArtifact(project, { ...timestampOf(ctx), created: nowOf(ctx), ...registryOf(opened) });
      const built = buildSbom(input, format);
      const result = await deliver(ctx, built, `${input.files.length} files, ${input.dependencies?.length ?? 0} dependencies`);
      if (!flagBoolean(ctx, 'attach')) return result;
      const referrer = await attachDocument(opened.target, project.view.descriptor, sbomAttachment(built.document, format), {
        title: SBOM_FILE_NAMES[format],
        ...(input.timestamp ? { created: new Date(input.timestamp) } : {}),
      });
      const note = attachedLine(referrer, opened, project.view.descriptor);
      return { json: result.json, text: result.text && flagString(ctx, 'output') ? `${result.text}\n${note}` : note };
    });
  },
} satisfies Command;

async function deliver(ctx: CommandContext, built: SbomDocument, counts: string): Promise<CommandResult> {
  // The same bytes a referrer carries, so a file and an attachment of one model compare equal.
  const text = new TextDecoder().decode(serializeSbom(built.document));
  const output = flagString(ctx, 'output');
  if (!output) return { json: built.document, text };
  const file = path.resolve(ctx.cwd, output);
  // Temp file then rename, so a reader never sees half an SBOM.
  await writeFileAtomic(file, text);
  const name = built.format === 'cyclonedx' ? 'CycloneDX 1.6' : 'SPDX 3.0.1';
  return { json: built.document, text: `wrote ${output} (${name}, ${counts})` };
}
