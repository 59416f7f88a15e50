// test/support/cli.ts — runs the `wasmformer` CLI from the sources in a child process (for the CLI tests).

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const SAMPLES = join(ROOT, 'wasm-samples');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Spawned extends Result {
  stdoutBytes: Buffer;
}

/** Runs the CLI from the sources; `stdin` is fed to standard input. */
export function cliWith(stdin: Uint8Array | string | null, ...args: string[]): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'bin.ts'), ...args], { cwd: ROOT, stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString(), stderr, stdoutBytes });
    });
    if (stdin !== null) child.stdin?.end(stdin);
  });
}

export const cli = (...args: string[]): Promise<Spawned> => cliWith(null, ...args);
