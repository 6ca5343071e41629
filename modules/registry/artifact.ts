/**
 * What to record for a packed model: its pinned `oci://…@sha256:…` URI, its format from the
 * ModelPack config, and what its referrers say (who signed it, which SBOM, which MOF class).
 */
import { MOF_REPORT_ARTIFACT_TYPE } from '../card/index.js';
import { ModelshipError } from '../errors/index.js';
import { readArtifact } from '../modelpack/index.js';
import { fetchManifest, readAllVerified, referrers, type Descriptor, type ReadOnlyTarget, type RemoteReference } from '../oci/index.js';
import { SBOM_ARTIFACT_TYPES } from '../sbom/index.js';
import { bundleKeyMaterial, bundleSignerName, parseBundle } from '../sign/bundle.js';
import { ANNOTATION_BUNDLE_PREDICATE_TYPE } from '../sign/attach.js';
import { OMS_PREDICATE_TYPE } from '../sign/oms/statement.js';
import type { RegisterInput } from './contract.js';

const SIGSTORE_BUNDLE_TYPES = new Set(['application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.dev.sigstore.bundle+json;version=0.3']);
const NOTATION_SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';
const MOF_CLASS_ANNOTATION = 'dev.modelship.mof.class';
/** A Sigstore bundle is a few KiB; anything far larger is not one. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

/** Custom property names registering writes; stable, since queries and the hand-off read them. */
export const PROPERTY = {
  signature: 'signature',
  signatureReferrer: 'signature.referrer',
  sbomDigest: 'sbom.digest',
  sbomFormat: 'sbom.format',
  mofClass: 'mof.class',
  reference: 'oci.reference',
} as const;

export interface ArtifactToRegister {
  target: ReadOnlyTarget;
  /** The manifest (or ModelCar index) the URI pins. */
  subject: Descriptor;
  /** Where the artifact lives in a registry; its tag, if any, names the version. */
  reference: RemoteReference;
  /** Override the registered model name (default: the repository's last path component). */
  name?: string;
  /** Override the version name (default: the tag, else the first 12 hex digits of the digest). */
  version?: string;
}

export async function registerInputOfArtifact(artifact: ArtifactToRegister): Promise<RegisterInput> {
  const { target, subject, reference } = artifact;
  const repository = `${reference.registry}/${reference.repository}`;
  const name = artifact.name ?? reference.repository.split('/').pop()!;
  const version = artifact.version ?? reference.tag ?? subject.digest.slice('sha256:'.length, 'sha256:'.length + 12);
  const format = await modelFormat(target, subject.digest);
  const properties: Record<string, string> = { [PROPERTY.reference]: reference.tag ? `${repository}:${reference.tag}` : `${repository}@${subject.digest}` };
  Object.assign(properties, await referrerProperties(target, subject));
  return {
    name,
    version,
    uri: `oci://${repository}@${subject.digest}`,
    digest: subject.digest,
    ...(format ? { modelFormatName: format } : {}),
    properties,
  };
}

/** The config's format (gguf, safetensors, …) for ModelPack and ModelKit artifacts; undefined for others. */
async function modelFormat(target: ReadOnlyTarget, digest: string): Promise<string | undefined> {
  const view = await readArtifact(target, digest).catch(() => undefined);
  const config = (view?.config ?? {}) as { config?: { format?: unknown }; model?: { format?: unknown } };
  const format = view?.format === 'modelkit' ? config.model?.format : config.config?.format;
  return typeof format === 'string' && format ? format.toLowerCase() : undefined;
}

async function referrerProperties(target: ReadOnlyTarget, subject: Descriptor): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const found = await referrers(target, subject);
  // The same graph gives the same properties whatever the listing order: by rank, then digest.
  const sorted = [...found].sort((a, b) => signatureRank(a) - signatureRank(b) || a.digest.localeCompare(b.digest));
  for (const d of sorted) {
    const type = d.artifactType ?? '';
    if (out[PROPERTY.signature] === undefined && (SIGSTORE_BUNDLE_TYPES.has(type) || type === NOTATION_SIGNATURE_TYPE)) {
      out[PROPERTY.signature] = type === NOTATION_SIGNATURE_TYPE ? 'notation' : await sigstoreSigner(target, d);
      out[PROPERTY.signatureReferrer] = d.digest;
    } else if (out[PROPERTY.sbomDigest] === undefined && (type === SBOM_ARTIFACT_TYPES.cyclonedx || type === SBOM_ARTIFACT_TYPES.spdx)) {
      out[PROPERTY.sbomDigest] = d.digest;
      out[PROPERTY.sbomFormat] = type === SBOM_ARTIFACT_TYPES.cyclonedx ? 'cyclonedx' : 'spdx';
    } else if (out[PROPERTY.mofClass] === undefined && type === MOF_REPORT_ARTIFACT_TYPE) {
      const mofClass = d.annotations?.[MOF_CLASS_ANNOTATION] ?? (await manifestAnnotation(target, d, MOF_CLASS_ANNOTATION));
      if (mofClass) out[PROPERTY.mofClass] = mofClass;
    }
  }
  return out;
}

/** The OpenSSF Model Signing bundle (it covers every file) speaks for the model before a manifest-digest signature does. */
function signatureRank(d: Descriptor): number {
  if (!SIGSTORE_BUNDLE_TYPES.has(d.artifactType ?? '')) return d.artifactType === NOTATION_SIGNATURE_TYPE ? 2 : 3;
  return d.annotations?.[ANNOTATION_BUNDLE_PREDICATE_TYPE] === OMS_PREDICATE_TYPE ? 0 : 1;
}

async function manifestAnnotation(target: ReadOnlyTarget, desc: Descriptor, key: string): Promise<string | undefined> {
  const manifest = await fetchManifest(target, desc, `${target.location} (referrer ${desc.digest})`);
  return manifest.annotations?.[key];
}

/** Who the bundle says signed: the certificate's identity (keyless, certificate) or the key's hint. Recorded, not verified. */
async function sigstoreSigner(target: ReadOnlyTarget, desc: Descriptor): Promise<string> {
  const where = `${target.location} (signature ${desc.digest})`;
  const manifest = await fetchManifest(target, desc, where);
  const layer = 'layers' in manifest ? manifest.layers[0] : undefined;
  if (!layer) throw new ModelshipError('OCI_INVALID_MANIFEST', `${where} has no layer holding the Sigstore bundle`);
  const bytes = await readAllVerified(await target.fetch(layer), layer, MAX_BUNDLE_BYTES, where);
  return `sigstore ${bundleSignerName(bundleKeyMaterial(parseBundle(bytes, where)), where)}`;
}
