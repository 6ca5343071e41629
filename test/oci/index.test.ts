import { describe, expect, it } from 'vitest';
import * as oci from '../../modules/oci/index.js';

describe('modules/oci public face', () => {
  it('exports the targets, copy, referrers and reference helpers', () => {
    for (const name of [
      'LayoutTarget',
      'MemoryTarget',
      'RemoteTarget',
      'remoteOptionsFrom',
      'copy',
      'copyGraph',
      'CopyError',
      'referrers',
      'attach',
      'buildArtifactManifest',
      'openReference',
      'parseReference',
      'formatReference',
      'parseDigest',
      'digestOf',
      'verifyingStream',
      'parseImageManifest',
      'successors',
      'MEDIA_TYPE',
      'EMPTY_DESCRIPTOR',
    ]) {
      expect(oci, name).toHaveProperty(name);
    }
  });
});
