/**
 * SLSA v1 provenance for the pack step: what was built (the artifact), from what (commit, spec file,
 * base images) and by which builder (laptop, hook, Dagger or GitHub Actions).
 */
import { IN_TOTO_STATEMENT_TYPE, type InTotoStatement } from './oms/statement.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** Names the pack step's parameters; versioned with their meaning. */
export const MODELSHIP_PACK_BUILD_TYPE = 'https://modelship.dev/buildtypes/pack/v1';

export type BuilderKind = 'laptop' | 'hook' | 'dagger' | 'github-actions';

export interface ResourceDescriptor {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
}

export interface PackProvenanceInput {
  /** The packed artifact(s): name (e.g. repository) and manifest digest `sha256:<hex>`. */
  subjects: { name: string; digest: string }[];
  builder: BuilderKind;
  /** Overrides the builder id, e.g. a GitHub workflow reference. */
  builderId?: string;
  builderVersion?: string;
  source?: { uri: string; commit: string };
  specFile?: { path: string; sha256: string };
  baseImages?: { uri: string; digest: string }[];
  externalParameters?: Record<string, unknown>;
  invocationId?: string;
  startedOn?: Date;
  finishedOn?: Date;
}

const BUILDER_IDS: Record<BuilderKind, string> = {
  laptop: 'https://modelship.dev/builders/laptop@v1',
  hook: 'https://modelship.dev/builders/git-hook@v1',
  dagger: 'https://modelship.dev/builders/dagger@v1',
  'github-actions': 'https://modelship.dev/builders/github-actions@v1',
};

export function buildPackProvenance(input: PackProvenanceInput): InTotoStatement {
  const resolvedDependencies: ResourceDescriptor[] = [];
  if (input.source) resolvedDependencies.push({ uri: `git+${input.source.uri}`, digest: { gitCommit: input.source.commit } });
  if (input.specFile) resolvedDependencies.push({ name: input.specFile.path, digest: { sha256: input.specFile.sha256 } });
  for (const image of input.baseImages ?? []) resolvedDependencies.push({ uri: image.uri, digest: splitDigest(image.digest) });
  const metadata = {
    ...(input.invocationId ? { invocationId: input.invocationId } : {}),
    ...(input.startedOn ? { startedOn: input.startedOn.toISOString() } : {}),
    ...(input.finishedOn ? { finishedOn: input.finishedOn.toISOString() } : {}),
  };
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: input.subjects.map((s) => ({ name: s.name, digest: splitDigest(s.digest) })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: MODELSHIP_PACK_BUILD_TYPE,
        externalParameters: {
          ...(input.specFile ? { spec: input.specFile.path } : {}),
          ...(input.source ? { source: { uri: input.source.uri, commit: input.source.commit } } : {}),
          ...input.externalParameters,
        },
        internalParameters: { builderKind: input.builder },
        resolvedDependencies,
      },
      runDetails: {
        builder: {
          id: input.builderId ?? BUILDER_IDS[input.builder],
          ...(input.builderVersion ? { version: { modelship: input.builderVersion } } : {}),
        },
        ...(Object.keys(metadata).length ? { metadata } : {}),
      },
    },
  };
}

/** `sha256:<hex>` becomes `{sha256: <hex>}`, the in-toto digest set. */
function splitDigest(digest: string): Record<string, string> {
  const i = digest.indexOf(':');
  return i > 0 ? { [digest.slice(0, i)]: digest.slice(i + 1) } : { sha256: digest };
}
