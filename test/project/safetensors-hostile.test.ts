import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsHeader } from '../../modules/project/safetensors.js';

describe('a safetensors header nested 200,000 deep', () => {
  it('is MODEL_INVALID naming the file, not a stack overflow', async () => {
    const json = Buffer.from(`{"__metadata__":{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.length));
    const file = join(await mkdtemp(join(tmpdir(), 'modelship-st-')), 'model.safetensors');
    await writeFile(file, Buffer.concat([head, json]));
    await expect(readSafetensorsHeader(file)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('more than 256 deep') });
  });
});
