// test/support/cli.ts — runs the `wasmformer` CLI from the sources in a child process (for the CLI tests).

import { spawn } from 'node:child_process';
import { expect } from 'vitest';
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

/** Exit 1 (2 for usage), a first stderr line `error: ...` matching `message`, at most one hint, no stack trace. */
export function expectError(r: Result, message: RegExp, usage = false): void {
  const what = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.code, what).toBe(usage ? 2 : 1);
  const ls = r.stderr.split('\n').filter(Boolean);
  expect(ls[0], what).toMatch(/^error: /);
  expect(ls[0], what).toMatch(message);
  expect(ls.slice(1).every((l) => l.startsWith('hint: ')), what).toBe(true);
  expect(ls.length, what).toBeLessThanOrEqual(2);
  expect(r.stderr).not.toContain('    at ');
}
