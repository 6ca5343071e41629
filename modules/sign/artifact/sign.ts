/**
 * Sign a packed artifact where it lives (store, layout or registry): the OpenSSF model signature is
 * built from the manifest's digests, so no weight blob is read and the time does not grow with size.
 * Each bundle is attached as a cosign v3 referrer.
 */
import { ModelshipError } from '../../errors/index.js';
import { packedFilesOf } from '../../modelpack/layers.js';
import { readArtifact } from '../../modelpack/read.js';
import type { Descriptor, Target } from '../../oci/types.js';
import { referrers } from '../../oci/referrers.js';
import { BUNDLE_V03_MEDIA_TYPE, serializeBundle } from '../bundle.js';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE } from '../notation/index.js';
import { attachNotationSignature, type NotationSigning } from './notation.js';
import { omsStatementFromManifest } from '../oms/manifest-resources.js';
import type { InTotoStatement, OmsStatement } from '../oms/statement.js';
import { signStatement, type SigningMethod } from '../signers.js';
import { packProvenanceStatement, type ProvenanceOptions } from './provenance.js';
import { attachBundle, readReferrerDocument } from './referrers.js';
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../simple-signing.js';
import { attachSimpleSignature } from './simple-signatures.js';
import { ATTESTED_DOCUMENTS, cosignSignStatement, documentStatement, type ManifestSubject } from './statements.js';

export interface SignArtifactOptions {
  /** The repository name for statements over the manifest digest; the model name when absent. */
  repository?: string;
  /** Attach SLSA provenance of the pack step. */
  provenance?: ProvenanceOptions;
  /** Attest SBOM and MOF report referrers found on the artifact (default true). */
  attestDocuments?: boolean;
  /** Also attach a Notation signature made with this certificate chain. */
  notation?: NotationSigning;
  /**
   * Also sign the manifest, and a ModelCar's index, in cosign's tag form (`sha256-<hex>.sig`, simple
   * signing), which policy-controller, Kyverno `type: Cosign` and Flux before 2.8 verify (default true).
   */
  simpleSigning?: boolean;
}

export interface AttachedBundle {
  /** The referrer's artifactType: a Sigstore bundle or a Notation signature; for a cosign tag signature, its layer media type. */
  artifactType: string;
  /** The signed statement's predicate type (Sigstore bundles). */
  predicateType?: string;
  /** The referrer manifest holding the bundle. */
  referrer: Descriptor;
  /** The manifest it refers to: the model manifest, or a ModelCar's index or image. */
  subject: Descriptor;
  /** A cosign tag signature: the tag its image is under (`referrer` is that image). */
  tag?: string;
}

export interface SignArtifactResult {
  /** The signed manifest. */
  descriptor: Descriptor;
  statement: OmsStatement;
  attached: AttachedBundle[];
}

/** The model's name as packed (config descriptor.name), else the repository's last path part. */
export function modelNameOf(config: unknown, repository: string | undefined): string | undefined {
  const name = (config as { descriptor?: { name?: unknown } } | undefined)?.descriptor?.name;
  if (typeof name === 'string' && name) return name;
  return repository?.split('/').pop();
}

export async function signArtifact(target: Target, ref: string, method: SigningMethod, opts: SignArtifactOptions = {}): Promise<SignArtifactResult> {
  const view = await readArtifact(target, ref);
  const where = `${target.location} (${ref})`;
  const modelName = modelNameOf(view.config, opts.repository);
  if (!modelName) throw new ModelshipError('MODEL_INVALID', `${where} has no model name in its config and no repository to name it by; pass the repository name`);
  const statement = omsStatementFromManifest(view.manifest, { modelName, packedFiles: packedFilesOf(view.manifest.layers) });
  if (statement.predicate.resources.length === 0) {
    throw new ModelshipError('MODEL_INVALID', `${where} is a ${view.format} artifact with no ModelPack model layers: nothing to sign file by file`);
  }
  const subject: ManifestSubject = { name: opts.repository ?? modelName, digest: view.descriptor.digest };
  const statements: InTotoStatement[] = [statement, cosignSignStatement(subject)];
  if (opts.provenance) statements.push(await packProvenanceStatement(subject, opts.provenance));
  if (opts.attestDocuments !== false) statements.push(...(await documentStatements(target, view.descriptor, subject)));
  const bySubject: [Descriptor, InTotoStatement[]][] = [[view.descriptor, statements]];
  if (view.resolved.digest !== view.descriptor.digest) {
    // A ModelCar: clusters pin the index and run the platform image, so cosign-style verifiers
    // (Kyverno, policy-controller) look for referrers of those digests, as `cosign sign` makes them.
    const documents = statements.filter((st) => Object.values(ATTESTED_DOCUMENTS).includes(st.predicateType));
    const name = opts.repository ?? modelName;
    const indexSubject: ManifestSubject = { name, digest: view.resolved.digest };
    bySubject.push([view.resolved, [cosignSignStatement(indexSubject), ...documents.map((d) => documentStatement(indexSubject, d.predicateType, d.predicate as Record<string, unknown>))]]);
    for (const image of view.images) bySubject.push([image, [cosignSignStatement({ name, digest: image.digest })]]);
  }
  const attached: AttachedBundle[] = [];
  for (const [subjectDesc, list] of bySubject) {
    for (const st of list) {
      const bundle = await signStatement(st, method);
      const referrer = await attachBundle(target, subjectDesc, new TextEncoder().encode(serializeBundle(bundle)), st.predicateType);
      attached.push({ artifactType: BUNDLE_V03_MEDIA_TYPE, predicateType: st.predicateType, referrer, subject: subjectDesc });
    }
    if (opts.simpleSigning !== false) {
      const sig = await attachSimpleSignature(target, subjectDesc, opts.repository ?? modelName, method);
      attached.push({ artifactType: SIMPLE_SIGNING_MEDIA_TYPE, referrer: sig.image, subject: subjectDesc, tag: sig.tag });
    }
    if (opts.notation) {
      attached.push({ artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE, referrer: await attachNotationSignature(target, subjectDesc, opts.notation), subject: subjectDesc });
    }
  }
  return { descriptor: view.descriptor, statement, attached };
}

/** One attestation per SBOM or MOF report referrer; the document is the predicate. */
async function documentStatements(target: Target, subject: Descriptor, manifestSubject: ManifestSubject): Promise<InTotoStatement[]> {
  const out: InTotoStatement[] = [];
  for (const referrer of await referrers(target, subject)) {
    const predicateType = referrer.artifactType ? ATTESTED_DOCUMENTS[referrer.artifactType] : undefined;
    if (!predicateType) continue;
    const { bytes } = await readReferrerDocument(target, referrer);
    let document: unknown;
    try {
      document = JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      throw new ModelshipError('INPUT_INVALID', `the ${referrer.artifactType} referrer ${referrer.digest} of ${manifestSubject.name} is not JSON (${(err as Error).message}); attach it again`, { cause: err });
    }
    if (!document || typeof document !== 'object' || Array.isArray(document)) {
      throw new ModelshipError('INPUT_INVALID', `the ${referrer.artifactType} referrer ${referrer.digest} of ${manifestSubject.name} is not a JSON object; attach it again`);
    }
    out.push(documentStatement(manifestSubject, predicateType, document as Record<string, unknown>));
  }
  return out;
}
