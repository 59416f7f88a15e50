// fuzz/worker.ts — worker thread of the fuzz pool: classifies each input it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { classify } from './classify.js';

parentPort?.on('message', async (msg: { id: number; bytes: Uint8Array; filename: string }) => {
  const verdict = await classify(msg.bytes, msg.filename);
  parentPort?.postMessage({ id: msg.id, verdict });
});
