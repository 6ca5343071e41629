import { describe, expect, it } from 'vitest';
import * as spec from '../../modules/project/index.js';
import * as gguf from '../../modules/gguf/index.js';

describe('public faces', () => {
  it('modules/project exports the loaders, parsers and detection', () => {
    for (const name of ['loadSpec', 'findSpecFile', 'parseKitfile', 'parseModelfile', 'parseModelshipYaml', 'renderModelshipYaml', 'modelshipJsonSchema', 'detectSpec', 'detectProject', 'listProjectFiles', 'classifyFile', 'createIgnoreMatcher', 'normalizeSpecPath', 'ModelSpec']) {
      expect(spec, name).toHaveProperty(name);
    }
  });
  it('modules/gguf exports the reader', () => {
    for (const name of ['readGgufHeader', 'validateGguf', 'ggufModelInfo', 'GGUF_FILE_TYPES']) expect(gguf, name).toHaveProperty(name);
  });
});
