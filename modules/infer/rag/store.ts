/**
 * A persistent, incremental vector index: one JSON line per passage in `<dir>/passages.jsonl`,
 * keyed by file path, mtime, size and SHA-256, so re-indexing embeds only what changed.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelshipError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import type { RetrievedPassage, Retriever } from '../server.js';
import { chunkText } from './chunk.js';

/** Turns texts into vectors: the native engine, or any OpenAI-compatible /v1/embeddings. */
export interface Embedder {
  readonly id: string;
  embed(texts: string[]): Promise<number[][]>;
}

export interface Passage {
  path: string;
  mtimeMs: number;
  size: number;
  sha256: string;
  chunk: number;
  text: string;
  vector: number[];
}

export interface IndexStats {
  files: number;
  passages: number;
  embedded: number;
  unchanged: number;
  removed: number;
}

const PASSAGES_FILE = 'passages.jsonl';
const META_FILE = 'index.json';
const TEXT_FILE = /\.(md|markdown|txt|rst|adoc|text)$/i;

export async function loadIndex(indexDir: string): Promise<{ embedder?: string; passages: Passage[] }> {
  const text = await readFile(path.join(indexDir, PASSAGES_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return { passages: [] };
  const meta = JSON.parse(await readFile(path.join(indexDir, META_FILE), 'utf8').catch(() => '{}')) as { embedder?: string };
  const passages = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as Passage;
      } catch (err) {
        throw new ModelshipError('INPUT_INVALID', `${path.join(indexDir, PASSAGES_FILE)} line ${i + 1} is not JSON; delete the index and run "modelship rag index" again.`, { cause: err });
      }
    });
  return { ...(meta.embedder ? { embedder: meta.embedder } : {}), passages };
}

/** Index every text/markdown file under `docsDir`, reusing passages of files that did not change. */
export async function updateIndex(docsDir: string, indexDir: string, embedder: Embedder): Promise<IndexStats> {
  const docs = path.resolve(docsDir);
  const files = await listTextFiles(docs).catch((err: unknown) => {
    throw new ModelshipError('MODEL_NOT_FOUND', `cannot read the documents folder ${docs}: check the path.`, { cause: err });
  });
  const old = await loadIndex(indexDir);
  // Vectors from another model are not comparable: start over when the embedder changes.
  const previous = old.embedder === embedder.id ? old.passages : [];
  const byPath = new Map<string, Passage[]>();
  for (const p of previous) byPath.set(p.path, [...(byPath.get(p.path) ?? []), p]);
  const stats: IndexStats = { files: files.length, passages: 0, embedded: 0, unchanged: 0, removed: 0 };
  const next: Passage[] = [];
  for (const file of files) {
    const rel = path.relative(docs, file).split(path.sep).join('/');
    const info = await stat(file);
    const known = byPath.get(rel) ?? [];
    byPath.delete(rel);
    if (known.length > 0 && known[0]!.mtimeMs === info.mtimeMs && known[0]!.size === info.size) {
      next.push(...known);
      stats.unchanged++;
      continue;
    }
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (known.length > 0 && known[0]!.sha256 === sha256) {
      next.push(...known.map((p) => ({ ...p, mtimeMs: info.mtimeMs, size: info.size })));
      stats.unchanged++;
      continue;
    }
    const chunks = chunkText(bytes.toString('utf8'));
    const vectors = chunks.length ? await embedder.embed(chunks) : [];
    chunks.forEach((text, chunk) => next.push({ path: rel, mtimeMs: info.mtimeMs, size: info.size, sha256, chunk, text, vector: vectors[chunk]! }));
    stats.embedded++;
  }
  stats.removed = byPath.size;
  stats.passages = next.length;
  await mkdir(indexDir, { recursive: true });
  await writeFileAtomic(path.join(indexDir, PASSAGES_FILE), next.map((p) => JSON.stringify(p)).join('\n') + (next.length ? '\n' : ''));
  await writeFileAtomic(path.join(indexDir, META_FILE), JSON.stringify({ embedder: embedder.id, docs, passages: next.length }, null, 2) + '\n');
  return stats;
}

/**
 * Top-k passages for a query. The score mixes embedding cosine with word overlap, so small or
 * byte-level embedding models still find the passage that shares the question's words.
 */
export function searchPassages(passages: Passage[], queryVector: number[], query: string, k: number): RetrievedPassage[] {
  const queryWords = words(query);
  return passages
    .map((p) => ({ source: p.path, text: p.text, score: 0.5 * cosine(queryVector, p.vector) + 0.5 * overlap(queryWords, words(p.text)) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

export function indexRetriever(passages: Passage[], embedder: Embedder, k = 3): Retriever {
  return {
    async retrieve(query) {
      if (passages.length === 0) return [];
      const [vector] = await embedder.embed([query]);
      return searchPassages(passages, vector!, query, k);
    },
  };
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

const STOP_WORDS = new Set('a an and are as at be by do does for from how in is it of on or the this to what when where which who why with'.split(' '));

function words(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 1 && !STOP_WORDS.has(w)));
}

/** Share of the query's words found in the passage. */
function overlap(query: Set<string>, passage: Set<string>): number {
  if (query.size === 0) return 0;
  let hits = 0;
  for (const w of query) if (passage.has(w)) hits++;
  return hits / query.size;
}

async function listTextFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTextFiles(full)));
    else if (e.isFile() && TEXT_FILE.test(e.name)) out.push(full);
  }
  return out;
}
