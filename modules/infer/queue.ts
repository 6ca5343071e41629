/**
 * A bounded queue in front of one model: `concurrency` requests run, up to `maxWaiting` wait,
 * and the next one is refused at once (the server answers 503 with Retry-After) instead of piling up.
 */
import { ModelshipError } from '../errors/index.js';

export interface QueueOptions {
  /** Requests that run at once; the native engine has one context sequence, so 1. */
  concurrency?: number;
  /** Requests that may wait for a slot. */
  maxWaiting?: number;
}

export class RequestQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: QueueOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxWaiting = options.maxWaiting ?? 16;
  }

  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Run `task` when a slot frees; throws INFER_QUEUE_FULL without waiting when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new ModelshipError('INFER_QUEUE_FULL', `the model is busy: ${this.running} running and ${this.waiting.length} waiting; retry shortly.`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }
}
