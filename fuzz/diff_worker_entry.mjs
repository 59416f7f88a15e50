// fuzz/diff_worker_entry.mjs — worker-thread entry of the diff pool: loads the TypeScript worker through tsx
// (a worker does not inherit the parent's --import tsx loader).
import { register } from 'tsx/esm/api';
register();
await import('./diff_worker.ts');
