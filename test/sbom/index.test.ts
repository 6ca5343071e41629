import { describe, expect, it } from 'vitest';
import * as sbom from '../../modules/sbom/index.js';

describe('modules/sbom public face', () => {
  it('exports the builders, validators, readers and attachment helpers', () => {
    for (const name of [
      'buildSbom',
      'buildCycloneDx',
      'buildSpdx',
      'validateCycloneDx',
      'readCycloneDx',
      'validateSpdx',
      'spdxMinimums',
      'filesFromManifest',
      'sbomAttachment',
      'sbomInputFromProject',
      'sbomInputFromArtifact',
      'sbomInputFromManifest',
      'readDependencies',
    ]) {
      expect(typeof (sbom as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(sbom.SBOM_ARTIFACT_TYPES).toEqual({ cyclonedx: 'application/vnd.cyclonedx+json', spdx: 'application/spdx+json' });
  });
});
