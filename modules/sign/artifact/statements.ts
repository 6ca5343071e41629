/**
 * The in-toto statements attached to a packed artifact besides the model signature: cosign's image
 * signature over the manifest digest, and DSSE attestations of documents (SBOM, MOF report).
 */
import { CYCLONEDX_MEDIA_TYPE } from '../../sbom/cyclonedx.js';
import { SPDX_MEDIA_TYPE } from '../../sbom/spdx.js';
import { MOF_REPORT_ARTIFACT_TYPE } from '../../card/documents.js';
import { parseDigest } from '../../oci/digest.js';
import { IN_TOTO_STATEMENT_TYPE, type InTotoStatement } from '../oms/statement.js';

/** What `cosign sign` (v3, new bundle format) signs: the manifest digest, predicate `{}`. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document';
export const MOF_REPORT_PREDICATE_TYPE = 'https://modelship.dev/attestations/mof-report/v1';

/** Referrer artifact types whose document is attested, with the predicate type it is attested under. */
export const ATTESTED_DOCUMENTS: Readonly<Record<string, string>> = {
  [CYCLONEDX_MEDIA_TYPE]: CYCLONEDX_PREDICATE_TYPE,
  [SPDX_MEDIA_TYPE]: SPDX_PREDICATE_TYPE,
  [MOF_REPORT_ARTIFACT_TYPE]: MOF_REPORT_PREDICATE_TYPE,
};

/** The artifact as an in-toto subject: the repository name and the manifest digest. */
export interface ManifestSubject {
  name: string;
  /** `sha256:<hex>` */
  digest: string;
}

function subjectEntry(subject: ManifestSubject): InTotoStatement['subject'][number] {
  const parsed = parseDigest(subject.digest, `the manifest digest of ${subject.name}`);
  return { name: subject.name, digest: { [parsed.algorithm]: parsed.hex } };
}

export function cosignSignStatement(subject: ManifestSubject): InTotoStatement {
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: [subjectEntry(subject)], predicateType: COSIGN_SIGN_PREDICATE_TYPE, predicate: {} };
}

/** A document (already JSON) attested as the predicate, as `cosign attest --type` writes it. */
export function documentStatement(subject: ManifestSubject, predicateType: string, document: Record<string, unknown>): InTotoStatement {
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: [subjectEntry(subject)], predicateType, predicate: document };
}
