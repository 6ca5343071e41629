import { describe, expect, it } from 'vitest';
import * as infer from '../../modules/infer/index.js';

describe('modules/infer public face', () => {
  it('exports the serving API and nothing by accident', () => {
    expect(Object.keys(infer).sort()).toEqual(
      [
        'APP_COMMAND',
        'APP_IMAGE',
        'APP_MOUNT',
        'ApiError',
        'CDI_GPU_RESOURCE',
        'DEFAULT_ANSWER_TOKENS',
        'DEFAULT_IMAGES',
        'LABEL_MODEL',
        'LABEL_PROJECT',
        'LLAMA_CPP_PORT',
        'MIN_CUT_TOKENS',
        'MODEL_MOUNT',
        'NODE_LLAMA_CPP_INSTALL',
        'RequestQueue',
        'ServerMetrics',
        'VLLM_PORT',
        'answerRoom',
        'buildContainerCommand',
        'buildPodManifest',
        'chatInTerminal',
        'chunkText',
        'collect',
        'contextMessage',
        'cosine',
        'decodeBase64Floats',
        'detectAccelerator',
        'encodeBase64Floats',
        'endpointEmbedder',
        'engineEmbedder',
        'findFreePort',
        'findModelIn',
        'fitPassages',
        'importNodeLlamaCpp',
        'indexRetriever',
        'loadIndex',
        'loadNativeEngine',
        'openNativeModel',
        'resolveModelSource',
        'searchPassages',
        'serverArguments',
        'serverImage',
        'serverPort',
        'startContainer',
        'startInferenceServer',
        'updateIndex',
      ].sort(),
    );
  });

  it('bounds its queue: one runs, N wait, the next is refused at once', async () => {
    const queue = new infer.RequestQueue({ concurrency: 1, maxWaiting: 1 });
    let release!: () => void;
    const first = queue.run(() => new Promise<string>((r) => (release = () => r('first'))));
    const second = queue.run(async () => 'second');
    await expect(queue.run(async () => 'third')).rejects.toMatchObject({ code: 'INFER_QUEUE_FULL' });
    expect(queue.depth).toBe(1);
    release();
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect([queue.active, queue.depth]).toEqual([0, 0]);
  });
});
