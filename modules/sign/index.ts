/**
 * Signing and verification of models: OpenSSF Model Signing (OMS v1.0) statements in Sigstore
 * DSSE bundles, signed with a key, an X.509 certificate, or keyless through Fulcio and Rekor.
 */
export {
  buildOmsStatement,
  subjectDigest,
  sortResources,
  parseShardName,
  shardName,
  resourceAlgorithm,
  IN_TOTO_STATEMENT_TYPE,
  OMS_PREDICATE_TYPE,
  OMS_V02_PREDICATE_TYPE,
} from './oms/statement.js';
export type { OmsResource, OmsSerialization, OmsStatementInput, OmsStatement, InTotoStatement, OmsHashType, SerializationMethod } from './oms/statement.js';
export { hashModelFolder, DEFAULT_SIGNATURE_FILE, DEFAULT_IGNORE_PATHS, DEFAULT_SHARD_SIZE } from './oms/hash-folder.js';
export type { HashFolderOptions } from './oms/hash-folder.js';
export { resourcesFromManifest, omsStatementFromManifest } from './oms/manifest-resources.js';
export type { PackedLayerFiles, ResourcesFromManifestOptions, ManifestStatementOptions } from './oms/manifest-resources.js';
export { preAuthEncoding, IN_TOTO_PAYLOAD_TYPE } from './dsse.js';
export { parseBundle, serializeBundle, BUNDLE_V03_MEDIA_TYPE } from './bundle.js';
export type { SerializedOmsBundle } from './bundle.js';
export {
  generateSigningKeyPair,
  loadPrivateKey,
  loadPublicKey,
  publicKeyHint,
  publicKeyPem,
  parseCurve,
  isEncryptedPem,
} from './keys.js';
export type { Curve, GeneratedKeyPair } from './keys.js';
export { signStatement, splitPem, DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from './signers.js';
export type { SigningMethod } from './signers.js';
export { identityFromEnvironment } from './identity.js';
export { signModelFolder } from './sign-folder.js';
export { writeFileAtomic } from '../fs/atomic.js';
export type { SignFolderOptions, SignFolderResult } from './sign-folder.js';
export { verifyBundle, verifyModelFolder, compareResources } from './verify.js';
export type { VerificationPolicy, VerificationResult, VerificationCheck, VerifyFolderOptions, SignedContent } from './verify.js';
export { verifyCertificateChain } from './cert-chain.js';
export type { KeylessIdentityPolicy } from './keyless-verify.js';
export { bundleReferrerManifest, ANNOTATION_BUNDLE_CONTENT, ANNOTATION_BUNDLE_PREDICATE_TYPE } from './attach.js';
export type { BundleReferrer } from './attach.js';
export { buildPackProvenance, SLSA_PROVENANCE_V1, MODELSHIP_PACK_BUILD_TYPE } from './slsa.js';
export type { BuilderKind, PackProvenanceInput } from './slsa.js';
export * from './notation/index.js';
