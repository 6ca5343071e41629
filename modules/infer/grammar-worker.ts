/**
 * JSON Schema to GBNF text in a worker thread. node-llama-cpp writes the text synchronously (4,999
 * properties: 1.4 s here), which would stall every other request and /health; the worker runs
 * node-llama-cpp's own converter, the one LlamaJsonSchemaGrammar uses, so the text is the same.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

type Schema = { readonly [key: string]: unknown };

// CommonJS so it can be evaluated; the converter is imported from node-llama-cpp's dist by file URL.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.converter).then(
  ({ getGbnfGrammarForGbnfJsonSchema }) => parentPort.on('message', ({ id, schema }) => {
    try {
      parentPort.postMessage({ id, gbnf: getGbnfGrammarForGbnfJsonSchema(JSON.parse(schema)) });
    } catch (err) {
      parentPort.postMessage({ id, error: String((err && err.message) || err) });
    }
  }),
  (err) => parentPort.postMessage({ id: -1, error: 'cannot load node-llama-cpp\\'s JSON schema grammar writer: ' + String((err && err.message) || err) }),
);
`;

/** One worker, started on first use and unreferenced, so an idle server can still exit. */
export class GrammarWorker {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (gbnf: string) => void; reject: (err: Error) => void }>();

  gbnfFor(schema: Schema): Promise<string> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      // JSON text crosses to the worker far faster than a structured clone of a large object.
      worker.postMessage({ id, schema: JSON.stringify(schema) });
    });
  }

  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const main = createRequire(import.meta.url).resolve('node-llama-cpp');
    const converter = new URL('./utils/gbnfJson/getGbnfGrammarForGbnfJsonSchema.js', pathToFileURL(main)).href;
    const worker = new Worker(SOURCE, { eval: true, workerData: { converter } });
    worker.unref();
    const failAll = (err: Error) => {
      for (const job of this.pending.values()) job.reject(err);
      this.pending.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('message', (m: { id: number; gbnf?: string; error?: string }) => {
      if (m.id === -1) return failAll(new Error(m.error));
      const job = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (!job) return;
      if (m.error !== undefined) job.reject(new Error(m.error));
      else job.resolve(m.gbnf!);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the grammar worker exited with ${code}`)));
    this.worker = worker;
    return worker;
  }
}
