/**
 * What a person calls each kind of referrer, for listings such as `modelship discover`.
 */
import { DATA_CARD_ARTIFACT_TYPE, MODEL_CARD_ARTIFACT_TYPE, MOF_REPORT_ARTIFACT_TYPE } from '../card/index.js';
import { SBOM_ARTIFACT_TYPES } from '../sbom/index.js';

const NAMES: Record<string, string> = {
  [SBOM_ARTIFACT_TYPES.cyclonedx]: 'CycloneDX SBOM',
  [SBOM_ARTIFACT_TYPES.spdx]: 'SPDX SBOM',
  [MOF_REPORT_ARTIFACT_TYPE]: 'MOF report',
  [MODEL_CARD_ARTIFACT_TYPE]: 'model card',
  [DATA_CARD_ARTIFACT_TYPE]: 'data card',
  'application/vnd.dev.sigstore.bundle.v0.3+json': 'Sigstore signature',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': 'Sigstore signature',
  'application/vnd.cncf.notary.signature': 'Notation signature',
  'application/vnd.in-toto+json': 'in-toto attestation',
};

/** The friendly name of a referrer's artifactType, or undefined for types modelship does not know. */
export function referrerKindName(artifactType: string | undefined, annotations: Record<string, string> = {}): string | undefined {
  if (artifactType === undefined) return undefined;
  const name = NAMES[artifactType];
  // A Sigstore bundle says what it signs: the model, the image digest, or an attestation.
  const predicate = annotations['dev.sigstore.bundle.predicateType'];
  return name && predicate ? `${name}: ${PREDICATE_NAMES[predicate] ?? predicate}` : name;
}

const PREDICATE_NAMES: Record<string, string> = {
  'https://model_signing/signature/v1.0': 'model files (OpenSSF Model Signing)',
  'https://sigstore.dev/cosign/sign/v1': 'manifest digest (cosign)',
  'https://slsa.dev/provenance/v1': 'SLSA provenance',
  'https://cyclonedx.org/bom': 'CycloneDX SBOM attestation',
  'https://spdx.dev/Document': 'SPDX SBOM attestation',
};
