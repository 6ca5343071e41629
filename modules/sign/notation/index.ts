/**
 * Notary Project (Notation) signatures: JWS envelopes for OCI manifests, their referrer manifests,
 * trust policies and verification.
 */
export { signNotation, notationTargetArtifact, certificatesFromPem, DEFAULT_SIGNING_AGENT } from './sign.js';
export type { NotationSignInput, NotationSignature } from './sign.js';
export {
  parseNotationEnvelope,
  integrityProblem,
  algorithmForKey,
  formatNotaryTime,
  NOTATION_PAYLOAD_MEDIA_TYPE,
  NOTATION_JWS_MEDIA_TYPE,
} from './jws.js';
export type { NotationJws, NotationPayload, NotationProtectedHeader, ParsedNotationEnvelope, JwsAlgorithm, SigningScheme } from './jws.js';
export { notationReferrerManifest, x509ChainThumbprints, NOTATION_SIGNATURE_ARTIFACT_TYPE, ANNOTATION_X509_CHAIN_THUMBPRINT } from './referrer.js';
export type { NotationReferrer } from './referrer.js';
export { parseTrustPolicy, applicableTrustPolicy, enforcementOf, repositoryOfReference, VALIDATION_TYPES } from './trust-policy.js';
export type {
  TrustPolicyDocument,
  TrustPolicyStatement,
  OciTrustPolicyStatement,
  BlobTrustPolicyStatement,
  ValidationType,
  ValidationAction,
  VerificationLevelName,
} from './trust-policy.js';
export { verifyNotation } from './verify.js';
export type { NotationVerifyInput, NotationVerification, NotationCheck } from './verify.js';
