// fuzz/diff_pool.ts — runs differential cases (fuzz/diff.ts) in a worker thread with a time and
// heap limit, so that a compile that never ends or a runaway allocation is a finding
// (`hang:<stage>`, `memory:<stage>`, naming the stage the worker was in) instead of a stuck
// fuzzer. One case at a time (the development machine is shared); the worker is reused while
// it behaves and replaced after a limit.

import { Worker } from 'node:worker_threads';
import type { DiffCase, DiffFinding, DiffStage } from './diff.js';

export interface DiffPoolOptions {
  /** Wall-clock limit per case, compile and all three oracles together (default 120 s). */
  timeLimitMs?: number;
  /** Heap limit of the worker (default 4096 MB). */
  memoryLimitMb?: number;
  /** Blocks the IR interpreter may run per call (fuzz/diff.ts DiffOptions.maxSteps). */
  maxSteps?: number;
}

export const DEFAULT_CASE_TIME_LIMIT_MS = 120_000;

interface Reply {
  id?: number;
  ready?: boolean;
  stage?: DiffStage;
  done?: boolean;
  finding?: DiffFinding | null;
}

export class DiffPool {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private next = 0;
  readonly timeLimitMs: number;
  readonly memoryLimitMb: number;

  constructor(private readonly opts: DiffPoolOptions = {}) {
    this.timeLimitMs = opts.timeLimitMs ?? DEFAULT_CASE_TIME_LIMIT_MS;
    this.memoryLimitMb = opts.memoryLimitMb ?? 4096;
  }

  private start(): { worker: Worker; ready: Promise<void> } {
    if (this.worker && this.ready) return { worker: this.worker, ready: this.ready };
    const worker = new Worker(new URL('./diff_worker_entry.mjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb } });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!m.ready) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    this.worker = worker;
    this.ready = ready;
    return { worker, ready };
  }

  private discard(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    void w?.terminate();
  }

  /** Runs one case; the time limit starts once the worker has loaded. */
  async run(c: DiffCase): Promise<DiffFinding | null> {
    const { worker: w, ready } = this.start();
    try {
      await ready;
    } catch (e) {
      this.discard();
      return { kind: 'crash:worker', signature: '', call: -1, detail: `the diff worker did not start: ${(e as Error).message}` };
    }
    const id = this.next++;
    let stage: DiffStage = 'compile';
    let call = -1;
    return new Promise<DiffFinding | null>((resolve) => {
      const finish = (f: DiffFinding | null, broken: boolean) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        if (broken) this.discard();
        resolve(f);
      };
      const timer = setTimeout(() => {
        finish({ kind: `hang:${stage}`, signature: '', call, detail: `no answer within ${this.timeLimitMs / 1000} s (${stage === 'compile' ? 'compiling' : `running call ${call} in the ${stage === 'ir' ? 'IR interpreter' : stage}`})` }, true);
      }, this.timeLimitMs);
      const onMessage = (m: Reply) => {
        if (m.id !== id) return;
        if (m.stage) {
          if (m.stage === 'ir') call++;
          stage = m.stage;
        }
        if (m.done) finish(m.finding ?? null, false);
      };
      const onError = (e: Error) => {
        const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish(oom
          ? { kind: `memory:${stage}`, signature: '', call, detail: `over the ${this.memoryLimitMb} MB heap limit (${stage})` }
          : { kind: `crash:${stage}`, signature: e.message, call, detail: `the diff worker died: ${e.message}` }, true);
      };
      const onExit = (code: number) => onError(new Error(`exit code ${code}`));
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage({ id, c, maxSteps: this.opts.maxSteps });
    });
  }

  /** Ends the worker (a pool can be used again afterwards: it starts a new one). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    await w?.terminate();
  }
}
