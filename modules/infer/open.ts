/** From what the user named to a loaded native engine: shared by `serve` and `run`. */
import { ModelshipError } from '../errors/index.js';
import type { Engine } from './engine.js';
import { loadNativeEngine, startLlama, type GpuChoice } from './native.js';
import { resolveModelSource, type ModelSource, type ResolveContext } from './source.js';

export interface OpenModelOptions extends ResolveContext {
  threads?: number;
  contextSize?: number;
  gpu?: GpuChoice;
  /** The id clients send as `model`; default: the model's name. */
  modelId?: string;
}

export async function openNativeModel(input: string, options: OpenModelOptions): Promise<{ engine: Engine; source: ModelSource }> {
  // The backend loads while the model is found (perhaps pulled) and checked.
  const started = startLlama({
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.gpu === undefined ? {} : { gpu: options.gpu }),
  });
  // Its failure is reported once awaited below; until then it must not count as unhandled.
  started.catch(() => {});
  let source: ModelSource;
  try {
    source = await resolveModelSource(input, options);
    if (source.format !== 'gguf') {
      throw new ModelshipError(
        'MODEL_INVALID',
        `${source.dir} holds safetensors weights, which the native engine cannot run; serve it with --engine podman or --engine docker (vLLM).`,
      );
    }
  } catch (err) {
    await started.then((s) => s.llama.dispose()).catch(() => {});
    throw err;
  }
  const engine = await loadNativeEngine({
    started,
    modelPath: source.file,
    modelId: options.modelId ?? source.name,

    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    ...(options.gpu === undefined ? {} : { gpu: options.gpu }),
  });
  return { engine, source };
}
