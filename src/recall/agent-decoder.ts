// Decodes large agent documents off the event loop: one worker thread (agent-decode-worker.ts),
// started on the first request and ended after IDLE_MS without one (its heap, which held the
// decoded document, goes with it), jobs taken in order. A worker that dies fails the jobs it held;
// the next request starts a new one.
import { Worker } from 'node:worker_threads';
import type { DecodedAgent } from './agent-decode.js';

export interface DecodeRequest {
  job: number;
  docId: string;
  parts: Uint8Array[];
}
export type DecodeReply = { job: number; chunk: string } | { job: number; done: DecodedAgent } | { job: number; error: string };

/** What the recall rebuild needs of a decoder (AgentDecoder; tests pass an in-process one). */
export interface AgentDecoding {
  decode(docId: string, parts: readonly Uint8Array[], onChunk: (json: string) => void): Promise<DecodedAgent>;
  close(): void;
}

/** A worker with no job left ends after this long. */
const IDLE_MS = 5_000;

interface Job {
  onChunk: (json: string) => void;
  resolve: (r: DecodedAgent) => void;
  reject: (err: Error) => void;
}

export interface AgentDecoderOptions {
  /** The worker script (default: agent-decode-worker.js beside this module, as built into dist/). */
  workerUrl?: URL;
  idleMs?: number;
}

export class AgentDecoder implements AgentDecoding {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Requests sent to a worker (tests, /status). */
  decoded = 0;

  constructor(private readonly o: AgentDecoderOptions = {}) {}

  /** Decodes `parts` (NodeStore.loadDoc) in the worker; `onChunk` gets the episodes as JSON arrays, in order, before the promise resolves. */
  decode(docId: string, parts: readonly Uint8Array[], onChunk: (json: string) => void): Promise<DecodedAgent> {
    if (this.closed) return Promise.reject(new Error('the agent decoder is closed'));
    const job = this.nextJob++;
    const w = this.ensureWorker();
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.decoded++;
    return new Promise<DecodedAgent>((resolve, reject) => {
      this.jobs.set(job, { onChunk, resolve, reject });
      // Copies (the store's buffers may share one allocation); structured clone of bytes is a memcpy.
      const req: DecodeRequest = { job, docId, parts: parts.map((p) => new Uint8Array(p)) };
      w.postMessage(req, req.parts.map((p) => p.buffer as ArrayBuffer));
    });
  }

  /** Ends the worker; jobs not finished fail. */
  close(): void {
    this.closed = true;
    this.stop(new Error('the agent decoder is closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.o.workerUrl ?? new URL('./agent-decode-worker.js', import.meta.url));
    // Never what keeps a stopping node alive.
    w.unref();
    w.on('message', (r: DecodeReply) => this.reply(r));
    w.on('error', (err) => this.stop(err));
    w.on('exit', (code) => {
      if (this.worker === w) this.stop(new Error(`the agent decode worker exited (code ${code})`));
    });
    this.worker = w;
    return w;
  }

  private reply(r: DecodeReply): void {
    const job = this.jobs.get(r.job);
    if (!job) return;
    if ('chunk' in r) return job.onChunk(r.chunk);
    this.jobs.delete(r.job);
    if ('done' in r) job.resolve(r.done);
    else job.reject(new Error(r.error));
    if (this.jobs.size === 0 && !this.closed) {
      this.idleTimer = setTimeout(() => this.stop(), this.o.idleMs ?? IDLE_MS);
      this.idleTimer.unref();
    }
  }

  private stop(err?: Error): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const j of jobs) j.reject(err ?? new Error('the agent decode worker stopped'));
  }
}
