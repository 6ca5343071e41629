import { describe, expect, it } from 'vitest';
import * as notation from '../../../modules/sign/notation/index.js';

describe('modules/sign/notation public face', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(notation).sort()).toEqual(
      [
        'ANNOTATION_X509_CHAIN_THUMBPRINT',
        'DEFAULT_SIGNING_AGENT',
        'NOTATION_JWS_MEDIA_TYPE',
        'NOTATION_PAYLOAD_MEDIA_TYPE',
        'NOTATION_SIGNATURE_ARTIFACT_TYPE',
        'VALIDATION_TYPES',
        'algorithmForKey',
        'applicableTrustPolicy',
        'certificatesFromPem',
        'enforcementOf',
        'formatNotaryTime',
        'integrityProblem',
        'notationReferrerManifest',
        'notationTargetArtifact',
        'parseNotationEnvelope',
        'parseTrustPolicy',
        'repositoryOfReference',
        'signNotation',
        'verifyNotation',
        'x509ChainThumbprints',
      ].sort(),
    );
    expect(notation.NOTATION_SIGNATURE_ARTIFACT_TYPE).toBe('application/vnd.cncf.notary.signature');
    expect(notation.ANNOTATION_X509_CHAIN_THUMBPRINT).toBe('io.cncf.notary.x509chain.thumbprint#S256');
  });
});
