/**
 * Referrer manifests for signatures and attestations, built without I/O: a Sigstore bundle stored
 * the way cosign v3 stores it (OCI 1.1 referrer), ready for `attach` in modules/oci.
 */
import { descriptorOf } from '../oci/digest.js';
import { artifactManifest } from '../oci/referrers.js';
import type { Descriptor, ImageManifest } from '../oci/types.js';
import { BUNDLE_V03_MEDIA_TYPE } from './bundle.js';

export const ANNOTATION_BUNDLE_CONTENT = 'dev.sigstore.bundle.content';
export const ANNOTATION_BUNDLE_PREDICATE_TYPE = 'dev.sigstore.bundle.predicateType';

export interface BundleReferrer {
  manifest: ImageManifest;
  /** The one layer: the bundle JSON exactly as given. */
  layer: { descriptor: Descriptor; bytes: Uint8Array };
}

/** cosign v3 / OCI 1.1: artifactType is the bundle type, empty config, one layer holding the bundle. */
export function bundleReferrerManifest(subject: Descriptor, bundleBytes: Uint8Array, predicateType: string): BundleReferrer {
  const layer = descriptorOf(bundleBytes, BUNDLE_V03_MEDIA_TYPE);
  const manifest = artifactManifest({
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    layers: [layer],
    subject,
    annotations: {
      [ANNOTATION_BUNDLE_CONTENT]: 'dsse-envelope',
      [ANNOTATION_BUNDLE_PREDICATE_TYPE]: predicateType,
    },
  });
  return { manifest, layer: { descriptor: layer, bytes: bundleBytes } };
}
