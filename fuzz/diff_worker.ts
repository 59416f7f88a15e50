// fuzz/diff_worker.ts — worker thread of fuzz/diff_pool.ts: runs each differential case it is sent
// (fuzz/diff.ts), reporting every stage it enters so that a time limit can name the one that hung.
import { parentPort } from 'node:worker_threads';
import { runDiff, type DiffCase } from './diff.js';

parentPort?.on('message', async (msg: { id: number; c: DiffCase; maxSteps?: number }) => {
  const finding = await runDiff(msg.c, { maxSteps: msg.maxSteps, onStage: (stage) => parentPort?.postMessage({ id: msg.id, stage }) });
  parentPort?.postMessage({ id: msg.id, done: true, finding });
});
parentPort?.postMessage({ ready: true });
