#!/usr/bin/env node
// bin/wasmformer.mjs — CLI launcher: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
