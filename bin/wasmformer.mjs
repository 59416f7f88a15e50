#!/usr/bin/env node
// bin/wasmformer.mjs — the `wasmformer` command: runs the built CLI in dist/ (built by `npm run build`, and by
// `prepare` on install from a clone). Development runs the TypeScript directly: `npx tsx cli/bin.ts`.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("error: wasmformer is not built (dist/cli/bin.js is missing); run 'npm run build'\n");
  process.exit(1);
}
await import(entry.href);
