/**
 * `modelship discover REF`: the artifacts attached to a manifest (signatures, SBOMs, cards), as a tree.
 */
import { referrerKindName } from '../../attach/index.js';
import { fetchManifest, formatPlatform, isIndexMediaType, openReference, readSignatureImage, referrers, signatureTagOf, type Descriptor, type Platform, type ReadOnlyTarget } from '../../oci/index.js';
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../../sign/simple-signing.js';
import { flagString, type Command } from '../command.js';
import { UsageError } from '../../errors/index.js';
import { requireArgs } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

interface ReferrerNode {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** cosign's signature image, found by its tag `sha256-<hex>.sig` rather than as a referrer. */
  tag?: string;
  /** Signatures in that image (one layer each). */
  signatures?: number;
  referrers: ReferrerNode[];
}

/** cosign's tag signature of `subject`, shown beside its referrers (artifactType: the layers' media type). */
async function signatureTagNode(target: ReadOnlyTarget, subject: Descriptor, artifactType?: string): Promise<ReferrerNode[]> {
  if (artifactType && artifactType !== SIMPLE_SIGNING_MEDIA_TYPE) return [];
  const image = await readSignatureImage(target, subject);
  if (!image) return [];
  const { descriptor: d, manifest } = image;
  return [{ digest: d.digest, mediaType: d.mediaType, size: d.size, artifactType: SIMPLE_SIGNING_MEDIA_TYPE, tag: signatureTagOf(subject.digest), signatures: manifest.layers.length, referrers: [] }];
}

/** A hostile or cyclic graph cannot make the walk run forever. */
const MAX_DEPTH = 16;

async function referrerTree(target: ReadOnlyTarget, subject: Descriptor, artifactType?: string, seen = new Set<string>(), depth = 0): Promise<ReferrerNode[]> {
  if (depth >= MAX_DEPTH || seen.has(subject.digest)) return [];
  seen.add(subject.digest);
  const found = await referrers(target, subject, depth === 0 ? artifactType : undefined);
  const nodes: ReferrerNode[] = [];
  for (const d of found) {
    nodes.push({
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      ...(d.artifactType ? { artifactType: d.artifactType } : {}),
      ...(d.annotations ? { annotations: d.annotations } : {}),
      referrers: await referrerTree(target, d, undefined, seen, depth + 1),
    });
  }
  return depth === 0 ? [...nodes, ...(await signatureTagNode(target, subject, artifactType))] : nodes;
}

function renderTree(nodes: ReferrerNode[], prefix: string): string[] {
  return nodes.flatMap((node, i) => {
    const last = i === nodes.length - 1;
    const name = node.tag ? `cosign signature${node.signatures === 1 ? '' : `s (${node.signatures})`}, tag ${node.tag}` : referrerKindName(node.artifactType, node.annotations);
    const line = `${prefix}${last ? '└── ' : '├── '}${node.artifactType ?? node.mediaType}  ${node.digest}${name ? `  (${name})` : ''}`;
    return [line, ...renderTree(node.referrers, prefix + (last ? '    ' : '│   '))];
  });
}

interface ChildReferrers {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  platform?: Platform;
  referrers: ReferrerNode[];
}

/** The manifests an index lists (none for a manifest). */
async function indexManifests(target: ReadOnlyTarget, subject: Descriptor, where: string): Promise<Omit<ChildReferrers, 'referrers'>[]> {
  if (!isIndexMediaType(subject.mediaType)) return [];
  const parsed = await fetchManifest(target, subject, where);
  if (!('manifests' in parsed)) return [];
  return parsed.manifests.map((m) => ({
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    ...(m.platform ? { platform: m.platform } : {}),
  }));
}

function childLabel(child: Omit<ChildReferrers, 'referrers'>): string {
  if (child.platform) return `in the index: ${formatPlatform(child.platform)} image`;
  return `in the index: ${child.artifactType ?? child.mediaType}`;
}

const USAGE = 'discover REF [--artifact-type TYPE] [--plain-http] [--ca-file F]';

export const command: Command = {
  name: 'discover',
  summary: 'List the artifacts that refer to a manifest (signatures, SBOMs, cards), as a tree',
  usage: USAGE,
  help: `Lists the manifests whose subject is REF, and theirs in turn, with artifactType and digest.
Registries with the referrers API answer directly; others (and copies made by tools without the
API) are read through the referrers tag "sha256-<hex>". cosign's tag signature (the image tagged
"sha256-<hex>.sig", what policy-controller and Kyverno type Cosign verify) shows with its tag.
--artifact-type filters the first level.
For an index (a ModelCar tag), the referrers of the index come first, then those of each manifest
it lists (the platform image, the ModelPack manifest), so a signature on any of them shows.

${REFERENCE_FORMS_HELP}

Examples:
  modelship discover oci:./build/layout:v1
  modelship discover 127.0.0.1:5000/models/llama:v1 --plain-http --json
  modelship discover ghcr.io/acme/llama:v1 --artifact-type application/vnd.dev.sigstore.bundle.v0.3+json`,
  options: { 'artifact-type': { type: 'string' }, ...REGISTRY_OPTIONS },
  async run(ctx) {
    const [input] = requireArgs(ctx, ['REF'], USAGE);
    const artifactType = flagString(ctx, 'artifact-type');
    if (artifactType === '') throw new UsageError('--artifact-type needs a media type, e.g. application/spdx+json');
    const opened = await openReference(input!, openContextOf(ctx));
    const subject = await opened.target.resolve(opened.selector);
    const tree = await referrerTree(opened.target, subject, artifactType);
    // An index (a ModelCar) is one reference for several manifests; each may carry its own referrers.
    const children: ChildReferrers[] = [];
    for (const child of await indexManifests(opened.target, subject, opened.display)) {
      children.push({ ...child, referrers: await referrerTree(opened.target, child, artifactType) });
    }
    // A reference given by digest already shows it.
    const heading = opened.display.endsWith(`@${subject.digest}`) ? opened.display : `${opened.display}@${subject.digest}`;
    const lines = [heading, ...(tree.length ? renderTree(tree, '') : children.length ? [] : ['(no referrers)'])];
    for (const child of children) {
      lines.push(`${childLabel(child)}  ${child.digest}`, ...(child.referrers.length ? renderTree(child.referrers, '  ') : ['  (no referrers)']));
    }
    return {
      json: { reference: opened.display, digest: subject.digest, mediaType: subject.mediaType, referrers: tree, ...(children.length ? { manifests: children } : {}) },
      text: lines.join('\n'),
    };
  },
};
