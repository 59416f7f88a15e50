// test/cli.test.ts — the command-line contract of the `wasmformer` command (cli/bin.ts, spawned as a child process).
//
// compile (--json keys, output file, --export, stdin/stdout), run (--json shape, traps exit
// 0, signed/unsigned arguments, --max-steps, --trace, --trace-json), check (ranges, samples
// file, time limit), --version and help, and the error contract: non-zero exit, a first line
// `[FILE[:LINE:COL|:0xOFF]: ]error: ...` on stderr (WAT errors add the source line and a caret,
// others at most one `hint:` line), JSON on stdout with --json in every outcome, names from the
// module escaped, never a stack trace, and a failed compile neither creates nor clobbers the
// output file. The packaged bin (bin/wasmformer.mjs → dist/) is tested by package.test.ts.
// Each spawn costs about half a second, so models for the run tests are compiled once, and
// independent spawns run concurrently.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../index.js';
import { interpret } from '../ir/interp.js';
import type { Module } from '../ir/ir.js';
import { watToWasm } from '../frontend/wat.js';

import { ROOT, SAMPLES, cli, cliWith, type Result } from './support/cli.js';

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
let MUL_OFFSET = -1; // byte offset of the first unsupported instruction (a trapping float truncation) in mul.wasm

/**
 * Non-zero exit; stderr's first line is `[PLACE: ]error: ...` matching `message`, then at most a
 * source line and caret (WAT) and one `hint:` line (always one for usage errors); no stack trace.
 */
function expectError(r: Result, message: RegExp, usage = false, place: string | RegExp = ''): void {
  const what = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.code, what).toBe(usage ? 2 : 1);
  expect(r.stderr, what).not.toContain('    at ');
  const ls = lines(r.stderr);
  if (typeof place === 'string') expect(ls[0].startsWith(`${place}error: `), what).toBe(true);
  else expect(ls[0], what).toMatch(new RegExp(`^${place.source}error: `));
  expect(ls[0], what).toMatch(message);
  const rest = ls.slice(1).filter((l) => !l.startsWith('hint: '));
  const hints = ls.slice(1).filter((l) => l.startsWith('hint: '));
  expect(hints.length, what).toBeLessThanOrEqual(1);
  if (usage) expect(hints.length, what).toBe(1);
  if (rest.length) {
    expect(rest, what).toHaveLength(2); // source line and caret
    expect(rest[1], what).toMatch(/^[ \t]*\^$/);
  }
}

let dir = '';
const tmp = (name: string) => join(dir, name);
/** The countdown model's IR as compiled (the IR interpreter runs it step for step like the model). */
let countdownIR: Module;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasmformer-cli-'));
  // models for the run tests, compiled in-process (the compile command has its own tests)
  for (const name of ['countdown', 'oob']) {
    const m = await compile(new Uint8Array(readFileSync(join(SAMPLES, `${name}.wasm`))), { filename: `${name}.wasm` });
    writeFileSync(tmp(`${name}.onnx`), m.onnx);
    if (name === 'countdown') countdownIR = m.ir;
  }
  writeFileSync(tmp('garbage.wasm'), Buffer.from('this is not a WebAssembly module, just text\n'));
  writeFileSync(tmp('mul.wat'), '(module\n  (func $square (export "square") (param i32) (result i32)\n    (i32.trunc_f32_s (f32.mul (f32.convert_i32_s (local.get 0)) (f32.const 3)))))\n');
  const mulWasm = await watToWasm(readFileSync(tmp('mul.wat'), 'utf8'), 'mul.wat');
  writeFileSync(tmp('mul.wasm'), mulWasm);
  MUL_OFFSET = mulWasm.lastIndexOf(0xa8); // i32.trunc_f32_s, the body's only unsupported instruction
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('wasmformer compile', () => {
  it('--json prints exactly the stats keys and writes the model', async () => {
    const out = tmp('multi.onnx');
    const r = await cli('compile', join(SAMPLES, 'multi_export.wasm'), '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const stats = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(stats).sort()).toEqual(['compileMs', 'criticalPath', 'dModel', 'heads', 'layers', 'maxLive', 'mlpHidden', 'naiveSlots', 'params'].sort());
    for (const [k, v] of Object.entries(stats)) expect(typeof v, k).toBe('number');
    expect(stats.layers).toBeGreaterThanOrEqual(stats.criticalPath as number);
    expect(stats.heads).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).size).toBeGreaterThan(1000);
    // atomic write: no temporary file is left next to the output
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--export restricts the exports; running another export fails', async () => {
    const out = tmp('add3.onnx');
    const c = await cli('compile', join(SAMPLES, 'multi_export.wat'), '--export', 'add3', '--export', 'counter', '-o', out);
    expect(c.code, c.stderr).toBe(0);
    const exportsLine = lines(c.stdout).find((l) => l.startsWith('exports: '));
    expect(exportsLine?.slice('exports: '.length).split(', ').sort()).toEqual(['add3(3) -> 1', 'counter(0) -> 1']);
    const [ok, counter, other] = await Promise.all([
      cli('run', out, '--invoke', 'add3', '--json', '--', '1', '2', '3'),
      cli('run', out, '--invoke', 'counter', '--json'),
      cli('run', out, '--invoke', 'peek', '--', '0'),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).results).toEqual([6]);
    expect(JSON.parse(counter.stdout).results).toEqual([42]);
    expectError(other, /no export named 'peek'/);
  });
});

describe('wasmformer run', () => {
  it('--json prints {"results","steps","trap"}; arguments may be signed or unsigned', async () => {
    const model = tmp('countdown.onnx');
    const [a, b, c, d] = await Promise.all([
      cli('run', model, '--invoke', 'sub_by_count', '--json', '--', '10', '3'),
      cli('run', model, '--invoke', 'sub_by_count', '--json', '--', '4294967295', '0'),
      cli('run', model, '--invoke', 'sub_by_count', '--json', '--', '-1', '0'),
      cli('run', model, '--invoke', 'sub_by_count', '--', '-2147483648', '1'),
    ]);
    for (const r of [a, b, c, d]) expect(r.code, r.stderr).toBe(0);
    const ja = JSON.parse(a.stdout) as Record<string, unknown>;
    expect(Object.keys(ja)).toEqual(['results', 'steps', 'trap']);
    expect(ja.results).toEqual([7]);
    expect(ja.trap).toBeNull();
    expect(ja.steps).toBe(interpret(countdownIR, 'sub_by_count', [10, 3]).steps);
    expect(ja.steps as number).toBeGreaterThan(1);
    expect(b.stdout).toBe(c.stdout);
    expect(JSON.parse(b.stdout)).toMatchObject({ results: [-1], trap: null });
    // plain output: results, then the step count
    expect(d.stdout).toMatch(/^2147483647\t\(\d+ steps\)$/m);
  });

  it('a trap is a result: "trap":"out of bounds memory access" and exit 0', async () => {
    const [j, plain] = await Promise.all([
      cli('run', tmp('oob.onnx'), '--invoke', 'load_at', '--json', '--', '131069'),
      cli('run', tmp('oob.onnx'), '--invoke', 'load_off', '--', '4294967292'),
    ]);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ results: [], steps: 1, trap: 'out of bounds memory access' });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^trap: out of bounds memory access/);
  });

  it('--max-steps stops a loop with a one-line "step limit exceeded" error', async () => {
    const r = await cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--max-steps', '3', '--', '50');
    expectError(r, /step limit exceeded \(3 steps[;)]/);
    expect(r.stdout).toBe('');
  });

  it('--trace writes one line per step to stderr', async () => {
    const r = await cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--trace', '--json', '--', '3');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: number[]; steps: number };
    expect(out.results).toEqual([3]);
    const ls = lines(r.stderr);
    expect(ls).toHaveLength(out.steps);
    ls.forEach((l, i) => expect(l).toMatch(new RegExp(`^step ${i + 1}: pc=\\d+ countdown:block\\d+ \\[[-\\d, ]*\\]$`)));
    expect(ls[0]).toBe('step 1: pc=0 countdown:block0 [3]');
  });
});

describe('wasmformer check', () => {
  it('prints "N passed, 0 failed" and exits 0', async () => {
    const r = await cli('check', join(SAMPLES, 'lookup.wasm'), '--cases', '4', '--seed', '3');
    expect(r.code, r.stderr).toBe(0);
    const last = lines(r.stdout).at(-1)!;
    const m = /^(\d+) passed, 0 failed$/.exec(last);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(4);
  });
});

describe('errors', () => {
  it('missing input file', async () => {
    const out = tmp('missing.onnx');
    const [c, r] = await Promise.all([cli('compile', tmp('nope.wasm'), '-o', out), cli('run', tmp('nope.onnx'), '--invoke', 'f')]);
    expectError(c, /cannot read .*nope\.wasm/);
    expectError(r, /cannot read .*nope\.onnx/);
    expect(existsSync(out)).toBe(false);
  });

  it('garbage bytes: a CompileError, and no output file', async () => {
    const out = tmp('garbage.onnx');
    const [c, r] = await Promise.all([cli('compile', tmp('garbage.wasm'), '-o', out), cli('run', tmp('garbage.wasm'), '--invoke', 'f')]);
    expectError(c, /malformed|not a WebAssembly/, false, new RegExp(`${escapeRe(tmp('garbage.wasm'))}(:0x[0-9a-f]+)?: `));
    expect(existsSync(out)).toBe(false);
    // run given a module instead of a model: a hint to compile it first
    expectError(r, /is a WebAssembly module, not a compiled model/);
    expect(r.stderr).toMatch(/^hint: compile it first: wasmformer compile /m);
  });

  it('unsupported instruction in WAT: FILE:LINE:COL, the source line and a caret under it; an existing output is kept', async () => {
    const out = tmp('existing.onnx');
    writeFileSync(out, 'previous contents');
    const r = await cli('compile', tmp('mul.wat'), '-o', out);
    expectError(r, /i32\.trunc_f32_s.*function \$?square/, false, new RegExp(`${escapeRe(tmp('mul.wat'))}:3:\\d+: `));
    expect(lines(r.stderr)[1]).toBe('    (i32.trunc_f32_s (f32.mul (f32.convert_i32_s (local.get 0)) (f32.const 3)))))');
    expect(readFileSync(out, 'utf8')).toBe('previous contents');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('unsupported instruction in a binary: FILE:0xOFFSET', async () => {
    const r = await cli('compile', tmp('mul.wasm'), '-o', tmp('mulbin.onnx'));
    expectError(r, /i32\.trunc_f32_s.*function \$?square/, false, `${tmp('mul.wasm')}:0x${MUL_OFFSET.toString(16)}: `);
    expect(lines(r.stderr)).toHaveLength(1);
  });

  it('a WAT syntax error is located, with the source line and a caret', async () => {
    writeFileSync(tmp('bad.wat'), '(module (func (result i32) i32.const');
    const r = await cli('compile', tmp('bad.wat'), '-o', tmp('bad.onnx'));
    expectError(r, /unexpected token/, false, new RegExp(`${escapeRe(tmp('bad.wat'))}:1:\\d+: `));
    expect(lines(r.stderr)[1]).toBe('(module (func (result i32) i32.const');
    expect(existsSync(tmp('bad.onnx'))).toBe(false);
  });

  it('unknown export at compile time', async () => {
    const out = tmp('unknown_export.onnx');
    const r = await cli('compile', join(SAMPLES, 'countdown.wasm'), '--export', 'nope', '-o', out);
    expectError(r, /"nope" is not exported/, false, `${join(SAMPLES, 'countdown.wasm')}: `);
    expect(existsSync(out)).toBe(false);
  });

  it('usage errors: bad argument, out-of-range argument, unknown option, unknown command, bad --max-steps', async () => {
    const model = tmp('countdown.onnx');
    const [bad, big, opt, cmd, steps] = await Promise.all([
      cli('run', model, '--invoke', 'countdown', '--', '12x'),
      cli('run', model, '--invoke', 'countdown', '--', '4294967296'),
      cli('compile', join(SAMPLES, 'countdown.wasm'), '-o', tmp('opt.onnx'), '--frobnicate'),
      cli('frobnicate'),
      cli('run', model, '--invoke', 'countdown', '--max-steps', '0', '--', '1'),
    ]);
    expectError(bad, /'12x' is not a decimal integer/, true);
    expectError(big, /does not fit in 32 bits/, true);
    expectError(opt, /unknown option --frobnicate/, true);
    expect(existsSync(tmp('opt.onnx'))).toBe(false);
    expectError(cmd, /unknown command 'frobnicate'/, true);
    expectError(steps, /--max-steps/, true);
  });

  it('compile --explain prints the IR and every layer with its gadgets', async () => {
    const r = await cli('compile', join(SAMPLES, 'lookup.wasm'), '-o', tmp('explain.onnx'), '--explain');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('func $lookup');
    expect(r.stdout).toMatch(/^expert 0 = lookup:block0 \(1 params\): \d+ layers/m);
    expect(r.stdout).toMatch(/^ {4}layer 0 mlp \(\d+ units, \d+ slots live/m);
    expect(r.stdout).toMatch(/^ {4}layer \d+ attn \(4 heads, \d+ slots live\): load_v3\.byte0\.lookup/m);
    expect(r.stdout).toMatch(/^ {4}readout: next token \(\d+ features\)/m);
  });

  it('--lookup: a unique model refuses --no-evict in one line, a timed one runs with it, a bad kind is a usage error', async () => {
    const unique = await cli('compile', join(SAMPLES, 'copy_loop.wasm'), '-o', tmp('unique.onnx'), '--quiet');
    expect(unique.code, unique.stderr).toBe(0);
    const refused = await cli('run', tmp('unique.onnx'), '--invoke', 'copy_loop', '--no-evict', '--', '16', '256', '3');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^error: .*one cache row per address.*--lookup timed/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const timed = await cli('compile', join(SAMPLES, 'copy_loop.wasm'), '-o', tmp('timed.onnx'), '--lookup', 'timed', '--quiet');
    expect(timed.code, timed.stderr).toBe(0);
    const [a, b] = await Promise.all([
      cli('run', tmp('timed.onnx'), '--invoke', 'copy_loop', '--no-evict', '--json', '--', '16', '256', '3'),
      cli('run', tmp('unique.onnx'), '--invoke', 'copy_loop', '--json', '--', '16', '256', '3'),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).results).toEqual(JSON.parse(b.stdout).results);
    const bad = await cli('compile', join(SAMPLES, 'copy_loop.wasm'), '-o', tmp('bad.onnx'), '--lookup', 'bogus');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--lookup expects unique or timed, got 'bogus'/);
    expect(existsSync(tmp('bad.onnx'))).toBe(false);
  });

  it('--help for each command exits 0', async () => {
    const rs = await Promise.all([cli('--help'), cli('compile', '--help'), cli('run', '--help'), cli('check', '--help')]);
    const want = [/Usage:/, /^wasmformer compile /, /^wasmformer run /, /^wasmformer check /];
    rs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(want[i]);
    });
  });
});

describe('conventions', () => {
  it('--version, version --json and help COMMAND', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const [v, vj, h, bad] = await Promise.all([cli('--version'), cli('--version', '--json'), cli('help', 'check'), cli('help', 'frobnicate')]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`wasmformer ${pkg.version}\n`);
    expect(JSON.parse(vj.stdout)).toEqual({ version: pkg.version });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^wasmformer check /);
    expect(h.stdout).toContain('--range LO:HI');
    expectError(bad, /no help for 'frobnicate'/, true);
  });

  it("'-' reads standard input and '-o -' writes the model to standard output", async () => {
    const wat = readFileSync(join(SAMPLES, 'sum_to_n.wat'));
    const [fromFile, piped] = await Promise.all([
      compile(new Uint8Array(wat), { filename: 'sum_to_n.wat' }),
      cliWith(wat, 'compile', '-', '-o', '-'),
    ]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdoutBytes.equals(Buffer.from(fromFile.onnx))).toBe(true);
    expect(piped.stderr).toMatch(/^wrote <stdout>: /); // the summary moves to stderr
    expect(existsSync(join(ROOT, '-'))).toBe(false);
    const run = await cliWith(piped.stdoutBytes, 'run', '-', '--invoke', 'sum_to_n', '--json', '--', '10');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ results: [55], trap: null });
  });

  it('--json: one JSON object on stdout for errors too (located for WAT), nothing on stderr; --explain goes inside it', async () => {
    const [wat, usage, runErr, explain] = await Promise.all([
      cli('compile', tmp('mul.wat'), '-o', tmp('j.onnx'), '--json'),
      cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--json', '--', 'x'),
      cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--json', '--max-steps', '2', '--', '9'),
      cli('compile', join(SAMPLES, 'fib.wasm'), '-o', tmp('fib.onnx'), '--json', '--explain'),
    ]);
    for (const r of [wat, usage, runErr, explain]) {
      expect(lines(r.stdout), r.stdout).toHaveLength(1);
      expect(r.stderr).toBe('');
    }
    expect(wat.code).toBe(1);
    expect(JSON.parse(wat.stdout).error).toMatchObject({ kind: 'compile', file: tmp('mul.wat'), line: 3, instruction: 'i32.trunc_f32_s', func: 'square' });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error).toMatchObject({ kind: 'usage', message: "argument 'x' is not a decimal integer" });
    expect(runErr.code).toBe(1);
    expect(JSON.parse(runErr.stdout).error).toMatchObject({ kind: 'run', message: 'step limit exceeded (2 steps)' });
    expect(explain.code).toBe(0);
    const e = JSON.parse(explain.stdout) as { explanation: string; layers: number };
    expect(e.layers).toBeGreaterThan(0);
    expect(e.explanation).toContain('func $fib');
  });

  it('--trace-json writes one JSON object per step on stderr', async () => {
    const r = await cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--trace-json', '--json', '--', '3');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { steps: number };
    const steps = lines(r.stderr).map((l) => JSON.parse(l) as { step: number; pc: number; block: string; args: number[] });
    expect(steps).toHaveLength(out.steps);
    // the original fields, unchanged; the detail fields follow (DESIGN.md §15)
    expect(Object.keys(steps[0]).slice(0, 4)).toEqual(['step', 'pc', 'block', 'args']);
    expect(steps[0]).toMatchObject({ step: 1, pc: 0, block: 'countdown:block0', args: [3], trap: 0, out: [], writes: [], reads: [] });
    expect((steps[0] as unknown as { next: number }).next).toBe(steps[1].pc);
    steps.forEach((s, i) => expect(s.step).toBe(i + 1));
  });

  it('names from the module are escaped: no newline or escape sequence reaches the terminal', async () => {
    writeFileSync(tmp('evil.wat'), '(module (func (export "a\\0a\\1b[31mred\\e2\\80\\aeb") (param i32) (result i32) (i32.trunc_f32_s (f32.reinterpret_i32 (local.get 0)))))');
    const [text, json] = await Promise.all([cli('compile', tmp('evil.wat'), '-o', tmp('evil.onnx')), cli('compile', tmp('evil.wat'), '-o', tmp('evil.onnx'), '--json')]);
    expectError(text, /function a\\n\\x1b\[31mred\\u\{202e\}b/, false, new RegExp(`${escapeRe(tmp('evil.wat'))}:1:\\d+: `));
    expect(text.stderr).not.toMatch(/[\x1b\u202e]/);
    expect(lines(text.stderr)).toHaveLength(3);
    expect(json.stdout).not.toMatch(/[\x1b\u202e\n](?!$)/);
    expect(JSON.parse(json.stdout).error.func).toBe('a\n\x1b[31mred\u202eb');
  });

  it('hints: arguments without --, --provider cuda without its binaries', async () => {
    const [noDash, cuda] = await Promise.all([
      cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '5'),
      cli('run', tmp('countdown.onnx'), '--invoke', 'countdown', '--provider', 'cuda', '--', '5'),
    ]);
    expectError(noDash, /run takes one model file, got 2/, true);
    expect(noDash.stderr).toContain(`hint: put the program's arguments after '--': wasmformer run ${tmp('countdown.onnx')} --invoke countdown -- 5`);
    // this machine has no CUDA provider libraries (scripts/preinstall.cjs or ONNXRUNTIME_NODE_INSTALL=skip)
    const cudaLib = join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so');
    const installed = existsSync(cudaLib) && readFileSync(cudaLib).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'));
    if (!installed) {
      expectError(cuda, /--provider cuda: ONNX Runtime's CUDA provider is not installed/);
      expect(cuda.stderr).toContain('hint: install them with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
    } else expect(cuda.stderr).not.toContain('provider is not installed');
  });

  it('WAT nested deeper than the parser can take is a located error naming the limit, at once', async () => {
    writeFileSync(tmp('deep.wat'), `(module (func (export "f") ${'block '.repeat(200)}${'end '.repeat(200)}))`);
    const r = await cli('compile', tmp('deep.wat'), '-o', tmp('deep.onnx'));
    expectError(r, /nesting depth 202 exceeds the WAT parser's limit of 100; assemble it with wat2wasm/, false, new RegExp(`${escapeRe(tmp('deep.wat'))}:1:\\d+: `));
  });
});

describe('check: ranges, samples file, time limit', () => {
  it('--range keeps loop counters short, --args-file adds cases, --time-limit stops and says so', async () => {
    writeFileSync(tmp('cases.txt'), '# extra cases\ncountdown: 7\n3 4\n');
    const [ranged, limited] = await Promise.all([
      cli('check', join(SAMPLES, 'countdown.wasm'), '--range', '0:30', '--cases', '4', '--args-file', tmp('cases.txt'), '--json'),
      cli('check', join(SAMPLES, 'countdown.wasm'), '--cases', '200', '--time-limit', '0.001', '--json'),
    ]);
    expect(ranged.code, ranged.stderr).toBe(0);
    const r = JSON.parse(ranged.stdout) as { passed: number; failed: number; tooLong: number; ran: number; planned: number; timedOut: boolean };
    expect(r).toMatchObject({ failed: 0, tooLong: 0, timedOut: false });
    expect(r.ran).toBe(r.planned);
    expect(r.passed).toBe(r.ran);
    expect(limited.code, limited.stderr).toBe(0);
    const l = JSON.parse(limited.stdout) as { ran: number; planned: number; timedOut: boolean };
    expect(l.timedOut).toBe(true);
    expect(l.ran).toBeLessThan(l.planned);
    const text = await cli('check', join(SAMPLES, 'countdown.wasm'), '--cases', '200', '--time-limit', '0.001');
    expect(text.stdout).toMatch(/^time limit: ran \d+ of \d+ planned cases in 0\.001 s \(raise it with --time-limit\)$/m);
  });

  it('bad ranges are usage errors', async () => {
    const [a, b] = await Promise.all([
      cli('check', join(SAMPLES, 'countdown.wasm'), '--range', '5:1'),
      cli('check', join(SAMPLES, 'countdown.wasm'), '--range', '0-9'),
    ]);
    expectError(a, /LO is greater than HI/, true);
    expectError(b, /--range expects LO:HI/, true);
  });
});

describe('output files', () => {
  it('refuses a directory, a device node and a symbolic link; removes stale temporary files', async () => {
    const target = tmp('target.onnx');
    writeFileSync(target, 'keep me');
    symlinkSync(target, tmp('link.onnx'));
    const dead = await new Promise<number>((resolve) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.on('close', () => resolve(c.pid!));
    });
    const stale = tmp(`.fresh.onnx.${dead}.tmp`);
    writeFileSync(stale, 'left by a killed compile');
    const src = join(SAMPLES, 'fib.wasm');
    const [d, dev, link, ok] = await Promise.all([
      cli('compile', src, '-o', dir),
      cli('compile', src, '-o', '/dev/null'),
      cli('compile', src, '-o', tmp('link.onnx')),
      cli('compile', src, '-o', tmp('fresh.onnx')),
    ]);
    expectError(d, /refusing to write .*: it is a directory/);
    expectError(dev, /refusing to write '\/dev\/null': it is not a regular file/);
    expectError(link, /refusing to write .*link\.onnx': it is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
  });

  it('SIGINT during a write removes the temporary file', async () => {
    const out = tmp('interrupted.onnx');
    const script = `import { writeAtomic } from ${JSON.stringify(join(ROOT, 'cli', 'output.ts'))};
      const p = writeAtomic(${JSON.stringify(out)}, new Uint8Array(64 << 20));
      setImmediate(() => process.kill(process.pid, 'SIGINT'));
      await p;
      console.log('finished before the signal');`;
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
      let stdout = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.on('close', (code) => resolve({ code, stdout }));
    });
    expect(r.code, r.stdout).toBe(130);
    expect(readdirSync(dir).filter((f) => f.startsWith('.interrupted.onnx.'))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
