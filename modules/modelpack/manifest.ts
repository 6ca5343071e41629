/**
 * The ModelPack manifest for a config and its layers, as `pack` and `import` write it: annotations in
 * Go's map order, so tools that re-encode the manifest in Go (modctl inspect) get the digest we push.
 */
import { MEDIA_TYPE, type Descriptor, type ImageManifest } from '../oci/types.js';
import { inGoMapOrder } from './layers.js';
import { MODEL_ARTIFACT_TYPE } from './mediatypes.js';

export function modelPackManifest(config: Descriptor, layers: Descriptor[], annotations: Record<string, string> = {}): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType: MODEL_ARTIFACT_TYPE,
    config,
    layers,
    ...(Object.keys(annotations).length ? { annotations: inGoMapOrder(annotations) } : {}),
  };
}
