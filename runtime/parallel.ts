// runtime/parallel.ts — a batch split over worker threads (Node only), one ONNX Runtime session each.
//
// One session must run with one intra-op thread (runtime/core.ts: with two, ScatterND's
// reductions gave wrong steps), so a single runBatch uses one core. The executions of a batch
// are independent (each has its own memory), so a ParallelModel cuts the batch into as many
// contiguous parts as it has workers, runs each part with TransformerModel.runBatch in its own
// worker thread (its own model and sessions), and puts the outcomes and the memories back in
// order. Results are those of one runBatch over the whole batch, row for row: a row's steps do
// not depend on which rows share its session.run (each row of a step is computed on its own).
// Callbacks (trace, record, onOutput) cannot cross threads: such runs, and batches too small to
// split, run on the main thread's own model.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from '../format/errors.js';
import { TransformerModel } from './transformer.js';
import type { LoadOptions, MemorySnapshot, MemoryState, Outcome, RunOptions } from './core.js';

/** What a worker is asked (runtime/parallel_worker.ts answers). */
export type WorkerRequest =
  | { kind: 'load'; bytes: Uint8Array; opts: Pick<LoadOptions, 'provider' | 'earlyExit' | 'pin'> }
  | { kind: 'run'; name: string; argsList: number[][]; memories: MemorySnapshot[]; evict: boolean[]; opts: SplitRunOptions };

export type WorkerReply = { kind: 'loaded' } | { kind: 'ran'; outcomes: Outcome[]; memories: MemorySnapshot[] } | { kind: 'error'; message: string; runError: boolean };

/** The run options a worker can take (no callbacks). */
export type SplitRunOptions = Pick<RunOptions, 'maxSteps' | 'stopAtLimit' | 'maxOutputBytes'>;

/** Rows per worker below which a batch runs on the main thread (a worker's round trip costs more than it saves). */
export const MIN_ROWS_PER_WORKER = 16;

/** The default worker count: the cores there are, at most 8. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

class WorkerHandle {
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  constructor(readonly worker: Worker) {
    worker.on('message', (r: WorkerReply) => {
      const p = this.pending;
      this.pending = null;
      p?.resolve(r);
    });
    worker.on('error', (e: Error) => this.fail(new RunError(`a runtime worker failed: ${e.message}`)));
    worker.on('exit', (code) => code !== 0 && this.fail(new RunError(`a runtime worker exited with code ${code}`)));
  }
  private fail(e: Error): void {
    this.failure = e;
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }
  /** One request, one reply (the caller never has two in flight on one worker). */
  ask(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(req, transfer);
    });
  }
}

/** Starts a worker running runtime/parallel_worker (the .ts beside this file under tsx or vitest, the .js in dist). */
function startWorker(): Worker {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const url = new URL(`./parallel_worker${ext}`, import.meta.url).href;
  // TypeScript sources need tsx's loader in the worker (a dev checkout: tsx is a devDependency)
  const load = `import(${JSON.stringify(url)})`;
  const code = ext === '.ts' ? `import('tsx/esm/api').then((m) => { m.register(); return ${load}; });` : `${load};`;
  return new Worker(code, { eval: true });
}

export class ParallelModel {
  private constructor(
    /** The main thread's model: layout, memories, and the runs that are not split. */
    readonly model: TransformerModel,
    private readonly workers: WorkerHandle[],
  ) {}

  /** Loads the model on the main thread and in `workers` worker threads (default: one per core). */
  static async load(bytes: Uint8Array, opts: LoadOptions & { workers?: number } = {}): Promise<ParallelModel> {
    const n = opts.workers ?? defaultWorkers();
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RunError(`workers must be an integer from 1 to 64, not ${n}`);
    const model = await TransformerModel.load(bytes, opts);
    const handles = n > 1 ? Array.from({ length: n }, () => new WorkerHandle(startWorker())) : [];
    const pm = new ParallelModel(model, handles);
    try {
      const replies = await Promise.all(handles.map((h) => h.ask({ kind: 'load', bytes, opts: { provider: opts.provider, earlyExit: opts.earlyExit, pin: opts.pin } })));
      for (const r of replies) if (r.kind === 'error') throw new RunError(r.message);
    } catch (e) {
      await pm.close();
      throw e;
    }
    return pm;
  }

  /** How many parts the last runBatch was split into (1: it ran on the main thread). */
  lastParts = 0;

  get layout() {
    return this.model.layout;
  }
  /** How many worker threads split a batch (1: none, the main thread runs it). */
  get workerCount(): number {
    return Math.max(1, this.workers.length);
  }
  newMemory(opts: { evict?: boolean } = {}): MemoryState {
    return this.model.newMemory(opts);
  }
  inputAddress(): number | null {
    return this.model.inputAddress();
  }

  /** TransformerModel.runBatch, the batch split over the workers (see the file header). */
  async runBatch(name: string, argsList: number[][], memories: MemoryState[], opts: RunOptions = {}): Promise<Outcome[]> {
    const B = argsList.length;
    const parts = Math.min(this.workers.length, Math.floor(B / MIN_ROWS_PER_WORKER));
    const callbacks = opts.trace || opts.record || opts.onOutput || opts.traceDetail;
    this.lastParts = parts < 2 || callbacks ? 1 : parts;
    if (this.lastParts === 1) return this.model.runBatch(name, argsList, memories, opts);
    this.model.entry(name); // an unknown export fails here, once
    const split: SplitRunOptions = { maxSteps: opts.maxSteps, stopAtLimit: opts.stopAtLimit, maxOutputBytes: opts.maxOutputBytes };
    const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * B) / parts));
    // every part is awaited, failed or not, so no worker is still busy when the next batch comes
    const settled = await Promise.allSettled(
      bounds.slice(0, -1).map((lo, k) => {
        const hi = bounds[k + 1];
        const mems = memories.slice(lo, hi);
        const snaps = mems.map((m) => m.snapshot());
        return this.workers[k].ask(
          { kind: 'run', name, argsList: argsList.slice(lo, hi), memories: snaps, evict: mems.map((m) => m.opts.evict ?? true), opts: split },
          snaps.map((s) => s.rows.buffer as ArrayBuffer),
        );
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const replies = settled.map((r) => (r as PromiseFulfilledResult<WorkerReply>).value);
    const outcomes: Outcome[] = [];
    replies.forEach((r, k) => {
      if (r.kind === 'error') throw r.runError ? new RunError(r.message) : new Error(r.message);
      if (r.kind !== 'ran') throw new Error(`runtime worker: unexpected reply ${r.kind}`);
      r.memories.forEach((s, i) => memories[bounds[k] + i].restore(s));
      outcomes.push(...r.outcomes);
    });
    return outcomes;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((h) => h.worker.terminate()));
  }
}
