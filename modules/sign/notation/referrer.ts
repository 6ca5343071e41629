/**
 * The OCI 1.1 referrer that stores a Notation signature, as notation-go pushes it: artifactType
 * `application/vnd.cncf.notary.signature`, the empty config, one envelope layer.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { descriptorOf } from '../../oci/digest.js';
import { artifactManifest } from '../../oci/referrers.js';
import { ANNOTATION_CREATED, type Descriptor, type ImageManifest } from '../../oci/types.js';
import { formatNotaryTime, NOTATION_JWS_MEDIA_TYPE, parseNotationEnvelope } from './jws.js';

export const NOTATION_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const ANNOTATION_X509_CHAIN_THUMBPRINT = 'io.cncf.notary.x509chain.thumbprint#S256';

export interface NotationReferrer {
  manifest: ImageManifest;
  layer: { descriptor: Descriptor; bytes: Uint8Array };
}

/** JSON array string of lowercase hex SHA-256 of each certificate's DER, in chain order. */
export function x509ChainThumbprints(certificates: X509Certificate[]): string {
  return JSON.stringify(certificates.map((c) => createHash('sha256').update(c.raw).digest('hex')));
}

/** Build (without I/O) the referrer manifest for a JWS envelope; thumbprints and time come from the envelope itself. */
export function notationReferrerManifest(subject: Descriptor, envelopeBytes: Uint8Array): NotationReferrer {
  const parsed = parseNotationEnvelope(envelopeBytes, 'the Notation envelope to attach');
  const layer = descriptorOf(envelopeBytes, NOTATION_JWS_MEDIA_TYPE);
  const manifest = artifactManifest({
    artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
    layers: [layer],
    subject,
    annotations: {
      [ANNOTATION_X509_CHAIN_THUMBPRINT]: x509ChainThumbprints(parsed.certificates),
      [ANNOTATION_CREATED]: formatNotaryTime(parsed.signingTime),
    },
  });
  return { manifest, layer: { descriptor: layer, bytes: envelopeBytes } };
}
