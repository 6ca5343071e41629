/**
 * A weight that changes while `pack` reads it (rewritten in place, grown, truncated) fails the pack
 * with PACK_SOURCE_CHANGED naming the file; nothing half-read is stored or left in ingest/.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, openSync, closeSync, truncateSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { packModel } from '../../modules/modelpack/index.js';
import type { Reporter } from '../../modules/progress/index.js';
import { specFor, tempDir, writeTree } from './helpers.js';

const MIB = 1024 * 1024;
const WEIGHT = 'model.safetensors';

type Change = (path: string) => void;

const changes: Record<string, Change> = {
  'rewritten in place': (path) => {
    const fd = openSync(path, 'r+');
    writeSync(fd, randomBytes(MIB), 0, MIB, 20 * MIB);
    closeSync(fd);
  },
  grown: (path) => appendFileSync(path, randomBytes(MIB)),
  truncated: (path) => truncateSync(path, 3 * MIB),
};

/** Changes the weight the moment its first bytes have been read. */
function changingOnFirstRead(path: string, change: Change): Reporter {
  let changed = false;
  return {
    start() {},
    finish() {},
    note() {},
    advance(id) {
      if (changed || !id.endsWith(WEIGHT)) return;
      changed = true;
      change(path);
    },
  };
}

describe('a file that changes while pack reads it', () => {
  for (const format of ['raw', 'tar'] as const) {
    for (const [what, change] of Object.entries(changes)) {
      it(`fails naming it when ${what} (${format} layers)`, async () => {
        const dir = await tempDir();
        await writeTree(dir, { [WEIGHT]: randomBytes(32 * MIB), 'README.md': '# tiny\n' });
        const spec = specFor(dir, [
          { kind: 'weight', path: WEIGHT },
          { kind: 'doc', path: 'README.md' },
        ]);
        const root = join(await tempDir(), 'store');
        const store = new LayoutTarget(root);
        const packing = packModel(spec, store, { tag: 'v1', layerFormat: format, reporter: changingOnFirstRead(join(dir, WEIGHT), change) });
        await expect(packing).rejects.toMatchObject({ code: 'PACK_SOURCE_CHANGED', message: expect.stringContaining(join(dir, WEIGHT)) });
        // Nothing half-read stays behind, and no tag names a mix of old and new bytes.
        expect((await readdir(join(root, 'ingest')).catch(() => [])).filter((n) => !n.endsWith('.lease'))).toEqual([]);
        await expect(store.resolve('v1')).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });
      }, 30_000);
    }
  }
});
