// test/inspect_cli.test.ts — the command-line contract of `wasmformer inspect` and `compile --no-inspect-info`.
//
// Spawned like test/cli.test.ts does (cli/bin.ts through tsx): help, the page written atomically
// (or to standard output with `-o -`, or from standard input with `-`), and one-line errors with
// exit status 1 or 2 for a missing -o, a missing or extra input, a WebAssembly module given as the
// model, a file that is not a model, a model compiled --no-inspect-info; a failed inspect neither
// creates nor clobbers the output file.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ROOT, SAMPLES, cliWith, expectError } from './support/cli.js';

const cli = (...args: string[]) => cliWith(null, ...args);

/** Exit 1 (2 for usage), a first stderr line `error: ...` matching `message`, at most one hint, no stack. */

let dir = '';
const tmp = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmformer-inspect-cli-'));
  const [a, b] = await Promise.all([
    cli('compile', join(SAMPLES, 'countdown.wat'), '-o', tmp('countdown.onnx'), '--quiet'),
    cli('compile', join(SAMPLES, 'countdown.wat'), '-o', tmp('bare.onnx'), '--no-inspect-info', '--quiet'),
  ]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  writeFileSync(tmp('keep.html'), 'an earlier report\n');
  writeFileSync(tmp('junk.onnx'), 'not a model at all');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('wasmformer inspect', () => {
  it('writes the page atomically and says so; --no-inspect-info makes a smaller model', async () => {
    const r = await cli('inspect', tmp('countdown.onnx'), '-o', tmp('countdown.html'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*countdown\.html: 6 blocks, \d+ bytes\n$/);
    const html = readFileSync(tmp('countdown.html'), 'utf8');
    expect(html).toContain('<title>wasmformer inspect: countdown.onnx</title>');
    expect(html).toContain('countdown:block0');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(statSync(tmp('bare.onnx')).size).toBeLessThan(statSync(tmp('countdown.onnx')).size);
  });

  it("reads '-' and writes '-o -'", async () => {
    const r = await cliWith(new Uint8Array(readFileSync(tmp('countdown.onnx'))), 'inspect', '-', '-o', '-');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith('<!doctype html>')).toBe(true);
    expect(r.stdout).toContain('<title>wasmformer inspect: model</title>');
    expect(r.stderr).toBe('');
    expect(existsSync(join(ROOT, '-'))).toBe(false);
  });

  it('--help and help inspect describe it; the main help lists it', async () => {
    const [h, hi, main, bad] = await Promise.all([cli('inspect', '--help'), cli('help', 'inspect'), cli('--help'), cli('compile', '--help')]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^wasmformer inspect MODEL\.onnx\|- -o REPORT\.html\|-/);
    expect(hi.stdout).toBe(h.stdout);
    expect(main.stdout).toContain('wasmformer inspect MODEL.onnx');
    expect(bad.stdout).toContain('--no-inspect-info');
  });

  it('usage errors are one line with a hint, exit 2', async () => {
    const rs = await Promise.all([
      cli('inspect', tmp('countdown.onnx')),
      cli('inspect', '-o', tmp('x.html')),
      cli('inspect', tmp('countdown.onnx'), tmp('bare.onnx'), '-o', tmp('x.html')),
      cli('inspect', tmp('countdown.onnx'), '-o', tmp('x.html'), '--frobnicate'),
    ]);
    expectError(rs[0], /inspect needs -o REPORT\.html \(or -o - for standard output\)/, true);
    expectError(rs[1], /inspect needs a model file \(or - for standard input\)/, true);
    expectError(rs[2], /inspect takes one model file, got 2/, true);
    expectError(rs[3], /unknown option --frobnicate/, true);
    expect(existsSync(tmp('x.html'))).toBe(false);
  });

  it('refuses what it cannot draw in one line, creating and clobbering nothing', async () => {
    const rs = await Promise.all([
      cli('inspect', tmp('bare.onnx'), '-o', tmp('keep.html')),
      cli('inspect', tmp('junk.onnx'), '-o', tmp('keep.html')),
      cli('inspect', join(SAMPLES, 'countdown.wasm'), '-o', tmp('keep.html')),
      cli('inspect', tmp('missing.onnx'), '-o', tmp('new.html')),
      cli('inspect', tmp('countdown.onnx'), '-o', dir),
    ]);
    expectError(rs[0], /bare\.onnx has no wasmformer\.inspect metadata \(compiled with --no-inspect-info\?\); compile it again without that flag/);
    expectError(rs[1], /junk\.onnx is not an ONNX model/);
    expectError(rs[2], /countdown\.wasm is a WebAssembly module, not a compiled model/);
    expect(rs[2].stderr).toMatch(/hint: compile it first: wasmformer compile .*countdown\.wasm -o model\.onnx, then inspect model\.onnx/);
    expectError(rs[3], /cannot read '.*missing\.onnx': no such file/);
    expectError(rs[4], /refusing to write '.*': it is a directory/);
    expect(readFileSync(tmp('keep.html'), 'utf8')).toBe('an earlier report\n');
    expect(existsSync(tmp('new.html'))).toBe(false);
  });
});
