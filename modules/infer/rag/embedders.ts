/** Where RAG embeddings come from: the loaded native engine, or an OpenAI-compatible endpoint. */
import OpenAI from 'openai';
import type { Engine } from '../engine.js';
import type { Embedder } from './store.js';

export function engineEmbedder(engine: Engine): Embedder {
  return {
    id: `native:${engine.modelId}`,
    embed: async (texts) => (await engine.embed(texts)).vectors,
  };
}

/** `baseURL` ends in /v1, as the openai client expects. */
export function endpointEmbedder(baseURL: string, model: string, apiKey = 'unused'): Embedder {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 2 });
  return {
    id: `${baseURL}#${model}`,
    embed: async (texts) => (await client.embeddings.create({ model, input: texts })).data.sort((a, b) => a.index - b.index).map((d) => d.embedding),
  };
}
