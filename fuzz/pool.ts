// fuzz/pool.ts — runs fuzz inputs through classify() in a worker thread with a time and memory limit.
//
// One input at a time (the development machine is shared); an input that runs past the time
// limit is a hang and one that exhausts the worker's heap limit is a memory finding: either way
// the worker is terminated and a fresh one takes the next input.

import { Worker } from 'node:worker_threads';
import type { FuzzInput } from './mutate.js';
import type { Verdict } from './classify.js';

export interface PoolOptions {
  timeLimitMs: number;
  memoryLimitMb: number;
}

export interface Finding {
  index: number;
  input: FuzzInput;
  verdict: Verdict;
}

function startWorker(opts: PoolOptions): Worker {
  return new Worker(new URL('./worker_entry.mjs', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: opts.memoryLimitMb },
  });
}

/** Classifies every input; `onVerdict` sees each in order. */
export async function runAll(inputs: Iterable<FuzzInput>, opts: PoolOptions, onVerdict: (index: number, input: FuzzInput, v: Verdict) => void): Promise<void> {
  let worker: Worker | null = null;
  let index = 0;
  try {
    for (const input of inputs) {
      worker ??= startWorker(opts);
      const w: Worker = worker;
      const verdict = await new Promise<Verdict>((resolve) => {
        const timer = setTimeout(() => {
          cleanup();
          void w.terminate();
          worker = null;
          resolve({ kind: 'hang', message: `no answer within ${opts.timeLimitMs} ms` });
        }, opts.timeLimitMs);
        const onMessage = (m: { id: number; verdict: Verdict }) => {
          if (m.id !== index) return;
          cleanup();
          resolve(m.verdict);
        };
        const onError = (e: Error) => {
          cleanup();
          worker = null;
          const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
          resolve(oom ? { kind: 'memory', message: `over the ${opts.memoryLimitMb} MB heap limit` } : { kind: 'crash', message: `worker died: ${e.message}` });
        };
        const onExit = (code: number) => onError(new Error(`exit code ${code}`));
        const cleanup = () => {
          clearTimeout(timer);
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.postMessage({ id: index, bytes: input.bytes, filename: input.filename });
      });
      onVerdict(index, input, verdict);
      index++;
    }
  } finally {
    await (worker as Worker | null)?.terminate();
  }
}
