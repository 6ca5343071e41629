/** Where RAG embeddings come from: the loaded native engine, or an OpenAI-compatible endpoint. */
import OpenAI from 'openai';
import type { Engine } from '../engine.js';
import type { Embedder } from './store.js';
import { longestStartThatFits } from './fit.js';

/** Tokens the native engine embeds at once (its embedding context is at most 2048). */
const embeddingLimit = (engine: Engine) => Math.min(engine.contextSize, 2048) - 8;

export function engineEmbedder(engine: Engine): Embedder {
  return {
    id: `native:${engine.modelId}`,
    embed: async (texts) => (await engine.embed(texts.map((t) => withinTokens(engine, t, embeddingLimit(engine))))).vectors,
  };
}

/** A passage longer than the embedding context is embedded by its start, which is what retrieval ranks it by. */
function withinTokens(engine: Engine, text: string, limit: number): string {
  const fits = (t: string) => engine.countTokens(t) <= limit;
  if (fits(text)) return text;
  // One unbroken word: a character is at most four byte tokens.
  return longestStartThatFits(text, fits) ?? text.slice(0, Math.floor(limit / 4));
}

/** `baseURL` ends in /v1, as the openai client expects. */
export function endpointEmbedder(baseURL: string, model: string, apiKey = 'unused'): Embedder {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 2 });
  return {
    id: `${baseURL}#${model}`,
    embed: async (texts) => (await client.embeddings.create({ model, input: texts })).data.sort((a, b) => a.index - b.index).map((d) => d.embedding),
  };
}
