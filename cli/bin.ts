// cli/bin.ts — process entry of the `wasmformer` command: runs main() on argv and sets the exit status.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
