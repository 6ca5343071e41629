/**
 * Signing and verifying packed artifacts (store, `oci:` layout or registry): OpenSSF model
 * signatures built from the manifest, cosign v3 image signatures, provenance and document
 * attestations, all attached as Sigstore bundle referrers.
 */
export { signArtifact, modelNameOf } from './sign.js';
export type { SignArtifactOptions, SignArtifactResult, AttachedBundle } from './sign.js';
export { verifyArtifact, bundleSigner } from './verify.js';
export type { ArtifactVerification, BundleVerification, BundleRole, VerifyArtifactOptions } from './verify.js';
export { attachBundle, findBundles, readReferrerDocument, MAX_REFERRER_BLOB_BYTES } from './referrers.js';
export type { FoundBundle } from './referrers.js';
export { artifactRepository } from './repository.js';
export { findSimpleSignatures } from './simple-signatures.js';
export type { FoundSimpleSignature } from './simple-signatures.js';
export { attachNotationSignature, verifyArtifactNotation } from './notation.js';
export type { NotationSigning, NotationPolicyInput, NotationArtifactVerification, NotationSignatureResult } from './notation.js';
export { builderFromEnvironment, packProvenanceStatement } from './provenance.js';
export type { ProvenanceOptions } from './provenance.js';
export {
  cosignSignStatement,
  documentStatement,
  ATTESTED_DOCUMENTS,
  COSIGN_SIGN_PREDICATE_TYPE,
  CYCLONEDX_PREDICATE_TYPE,
  SPDX_PREDICATE_TYPE,
  MOF_REPORT_PREDICATE_TYPE,
} from './statements.js';
export type { ManifestSubject } from './statements.js';
