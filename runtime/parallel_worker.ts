// runtime/parallel_worker.ts — one worker thread of a ParallelModel (runtime/parallel.ts): it loads
// the model once, then runs the parts of batches it is sent with TransformerModel.runBatch and
// sends back the outcomes and the memories as they ended.

import { parentPort } from 'node:worker_threads';
import { RunError } from '../format/errors.js';
import { TransformerModel } from './transformer.js';
import type { WorkerReply, WorkerRequest } from './parallel.js';

let model: TransformerModel | null = null;

async function answer(req: WorkerRequest): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  if (req.kind === 'load') {
    model = await TransformerModel.load(req.bytes, req.opts);
    return { reply: { kind: 'loaded' }, transfer: [] };
  }
  if (!model) throw new Error('runtime worker: run before load');
  const m = model;
  const memories = req.memories.map((s, i) => {
    const mem = m.newMemory({ evict: req.evict[i] });
    mem.restore(s);
    return mem;
  });
  const outcomes = await m.runBatch(req.name, req.argsList, memories, req.opts);
  const snaps = memories.map((mem) => mem.snapshot());
  return { reply: { kind: 'ran', outcomes, memories: snaps }, transfer: snaps.map((s) => s.rows.buffer as ArrayBuffer) };
}

parentPort!.on('message', (req: WorkerRequest) => {
  answer(req).then(
    ({ reply, transfer }) => parentPort!.postMessage(reply, transfer),
    (e: unknown) => parentPort!.postMessage({ kind: 'error', message: (e as Error).message, runError: e instanceof RunError } satisfies WorkerReply),
  );
});
