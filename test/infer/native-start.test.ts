/**
 * The native engine starts getLlama from node-llama-cpp's own getLlama module, so the binary test
 * (a child process) runs while the rest of the package loads. That is only sound while the module
 * is the very one the package exports: same function, same Llama class, same test before loading.
 */
import { describe, expect, it } from 'vitest';
import { importGetLlama, startLlama } from '../../modules/infer/native.js';

describe('native engine start', () => {
  it("imports getLlama from node-llama-cpp's own module, the function the package exports", async () => {
    const early = await importGetLlama();
    expect(early).toBeTypeOf('function');
    expect(early).toBe((await import('node-llama-cpp')).getLlama);
  });

  it('loads the backend through it', async () => {
    const started = await startLlama({ threads: 1, gpu: 'none' });
    try {
      expect(started.llama.gpu).toBe(false);
      expect(started.backend).toBe('using CPU (1 threads): GPU disabled by --gpu none');
      expect(started.lib.getLlama).toBe(await importGetLlama());
    } finally {
      await started.llama.dispose();
    }
  });
});
