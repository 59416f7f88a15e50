// test/c_samples_native.test.ts — the C samples and showcase programs (wasm-samples/c/) run
// natively through harness/io.ts: every committed .wasm (-O0 and -O2) reproduces every case in
// expected.json; independent JS models confirm what the programs are documented to compute
// (so expected.json itself is checked, not just replayed); every module stays inside the i32
// subset; and io.ts's own behaviour (@input, inputAt, output limit, traps, errors) is pinned.

import { describe, expect, it } from 'vitest';
import { IoProgram, inputImage, parseIoArg, resolveArgs, runIo } from '../harness/io.js';
import { RunError } from '../format/errors.js';
import { OPT_LEVELS, loadCatalogue, readWasm, type ShowcaseProgram } from '../wasm-samples/c/c_samples.js';
import { COUNT_EXPORT_PREFIX, functionNames, instrumentCounting, scanCode, staticStats } from '../harness/wasm_count.js';
import { watToWasmBytes } from './gen/random_program.js';

const catalogue = loadCatalogue();

function showcase(name: string): ShowcaseProgram {
  const p = catalogue.showcase.find((x) => x.name === name);
  if (!p) throw new Error(`no showcase program ${name}`);
  return p;
}

describe('C samples replay expected.json natively', () => {
  it('has at least 10 samples and the six showcase programs', () => {
    expect(catalogue.samples.length).toBeGreaterThanOrEqual(10);
    expect(catalogue.showcase.map((p) => p.name).sort()).toEqual(
      ['bigadd', 'collatz', 'fibonacci', 'hello', 'hungarian', 'sudoku'],
    );
  });
  for (const s of catalogue.samples) {
    for (const opt of OPT_LEVELS) {
      it(`${s.name} -${opt}`, async () => {
        const prog = await IoProgram.compile(readWasm(s.source, opt));
        const exported = new Set(s.cases.map((c) => c.export));
        for (const e of exported) expect(prog.exports()).toContain(e);
        for (const c of s.cases) {
          const o = await prog.run({ invoke: c.export, args: c.args });
          const got = o.trap !== null ? { trap: o.trap } : { results: o.results };
          const want = c.trap !== undefined ? { trap: c.trap } : { results: c.results };
          expect(got, `${s.name}.${c.export}(${c.args.join(', ')})`).toEqual(want);
          expect(o.output.length).toBe(0);
        }
      });
    }
  }
});

describe('showcase programs print what expected.json says', () => {
  for (const p of catalogue.showcase) {
    for (const opt of OPT_LEVELS) {
      it(`${p.name} -${opt}`, async () => {
        const prog = await IoProgram.compile(readWasm(p.source, opt));
        expect(prog.exports()).toContain('compute');
        for (const r of p.runs) {
          const o = await prog.run({ invoke: 'compute', args: ['@input'], input: r.input });
          expect(o.trap).toBeNull();
          expect(o.results).toEqual([]);
          expect(o.text, `${p.name} on ${JSON.stringify(r.input)}`).toBe(r.output);
        }
      });
    }
  }
});

// --- independent models: expected.json must mean what the programs claim ---

const u32 = (x: number): number => x >>> 0;
const i32 = (x: number): number => x | 0;

function gcdModel(a: number, b: number): number {
  let x = u32(a);
  let y = u32(b);
  while (y !== 0) [x, y] = [y, x % y];
  return i32(x);
}

function crc32Model(n: number, seed: number): number {
  if (n < 0 || n > 256) return 0;
  let s = u32(seed);
  let crc = 0xffffffff;
  for (let i = 0; i < n; i++) {
    s = u32(Math.imul(s, 1103515245) + 12345);
    crc ^= (s >>> 16) & 0xff;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return i32(~crc);
}

const sampleModels: Record<string, (args: number[]) => number> = {
  gcd: ([a, b]) => gcdModel(a!, b!),
  collatz_steps: ([n]) => {
    let v = u32(n!);
    if (v === 0) return -1;
    let steps = 0;
    while (v !== 1) {
      v = v & 1 ? u32(3 * v + 1) : v >>> 1;
      steps++;
    }
    return steps;
  },
  isqrt: ([n]) => i32(Math.floor(Math.sqrt(u32(n!)))),
  isqrt_newton: ([n]) => i32(Math.floor(Math.sqrt(u32(n!)))),
  crc32_bitwise: ([n, seed]) => crc32Model(n!, seed!),
  crc32_table: ([n, seed]) => crc32Model(n!, seed!),
  count_primes: ([n]) => {
    if (n! < 0 || n! > 2048) return -1;
    let c = 0;
    for (let k = 2; k < n!; k++) {
      let prime = true;
      for (let d = 2; d * d <= k; d++) if (k % d === 0) prime = false;
      if (prime) c++;
    }
    return c;
  },
  fib: ([n]) => {
    let a = 0;
    let b = 1;
    for (let i = 0; i < n!; i++) [a, b] = [b, a + b];
    return a;
  },
  hanoi: ([n]) => 2 ** n! - 1,
  popcount_loop: ([x]) => [...u32(x!).toString(2)].filter((c) => c === '1').length,
  popcount_swar: ([x]) => [...u32(x!).toString(2)].filter((c) => c === '1').length,
  bit_reverse: ([x]) => i32(parseInt([...u32(x!).toString(2).padStart(32, '0')].reverse().join(''), 2)),
  leading_zeros: ([x]) => Math.clz32(x!),
  roundtrip: ([v]) => v!,
  decimal_length: ([v]) => String(v).length,
  floor_div: ([a, b]) => (b === 0 ? 0 : a === -2147483648 && b === -1 ? a : Math.floor(a! / b!)),
  run_vm: ([n]) => {
    let f = 1;
    for (let k = 2; k <= n!; k++) f = Math.imul(f, k);
    return f;
  },
  clz: ([x]) => Math.clz32(x!),
  ctz: ([x]) => (x === 0 ? 32 : 31 - Math.clz32(x! & -x!)),
  rotr: ([x, k]) => i32((u32(x!) >>> (k! & 31)) | (u32(x!) << ((32 - k!) & 31))),
  sum_shorts: ([v, n]) => {
    let s = 0;
    for (let i = 0; i < n!; i++) s += (Math.imul(v!, 2 * i + 1) << 16) >> 16;
    return s;
  },
  day_of_week: ([y, m, d]) => (m! < 1 || m! > 12 ? -1 : new Date(Date.UTC(y!, m! - 1, d!)).getUTCDay()),
};

describe('C samples agree with independent JS models', () => {
  for (const s of catalogue.samples) {
    const modelled = s.cases.filter((c) => sampleModels[c.export] !== undefined);
    if (modelled.length === 0) continue;
    it(`${s.name}`, () => {
      for (const c of modelled) {
        expect(c.results, `${s.name}.${c.export}(${c.args.join(', ')})`).toEqual([sampleModels[c.export]!(c.args)]);
      }
    });
  }
  it('models cover at least ten exports', () => {
    const covered = new Set(catalogue.samples.flatMap((s) => s.cases.map((c) => c.export)).filter((e) => sampleModels[e]));
    expect(covered.size).toBeGreaterThanOrEqual(10);
  });
});

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

const showcaseModels: Record<string, (input: string, output: string) => void> = {
  hello: (input, output) => expect(output).toBe(`Hello, ${input || 'world'}!\n`),
  bigadd: (input, output) => {
    const [a, b] = input.split('+');
    expect(output).toBe(`${BigInt(a!) + BigInt(b!)}\n`);
  },
  collatz: (input, output) => {
    const seq = [Number(input)];
    while (seq[seq.length - 1] !== 1) {
      const v = seq[seq.length - 1]!;
      seq.push(v % 2 ? 3 * v + 1 : v / 2);
    }
    expect(output).toBe(`${seq.join(' ')}\nsteps: ${seq.length - 1}\n`);
  },
  fibonacci: (input, output) => {
    const fs: number[] = [];
    for (let i = 0, a = 0, b = 1; i < Number(input); i++, [a, b] = [b, a + b]) fs.push(a);
    expect(output).toBe(`${fs.join(' ')}\n`);
  },
  hungarian: (input, output) => {
    const xs = input.trim().split(/\s+/).map(Number);
    const n = Math.round(Math.sqrt(xs.length));
    const costOf = (p: number[]): number => p.reduce((s, col, row) => s + xs[row * n + col]!, 0);
    const best = Math.min(...permutations(n).map(costOf));
    const m = /^cost (-?\d+)\nassignment((?: r\d+->c\d+)+)\n$/.exec(output);
    expect(m, output).not.toBeNull();
    expect(Number(m![1])).toBe(best);
    const cols = [...m![2]!.matchAll(/r(\d+)->c(\d+)/g)].map((x) => Number(x[2]));
    expect([...cols].sort()).toEqual([...Array(n).keys()]);
    expect(costOf(cols)).toBe(best);
  },
  sudoku: (input, output) => {
    const units = [...Array(9).keys()].flatMap((k) => {
      const r = Math.floor(k / 3) * 3;
      const c = (k % 3) * 3;
      const nine = [...Array(9).keys()];
      return [nine.map((j) => k * 9 + j), nine.map((j) => j * 9 + k), nine.map((j) => (r + Math.floor(j / 3)) * 9 + c + (j % 3))];
    });
    const givens = input.replace(/\./g, '0');
    if (output === 'no solution\n') {
      // only inputs whose givens already clash are expected here
      const clash = units.some((u) => {
        const ds = u.map((c) => givens[c]).filter((d) => d !== '0');
        return new Set(ds).size !== ds.length;
      });
      expect(clash).toBe(true);
      return;
    }
    expect(output).toMatch(/^([1-9]{9}\n){9}$/);
    const g = output.replace(/\n/g, '');
    for (let i = 0; i < 81; i++) if (givens[i] !== '0') expect(g[i]).toBe(givens[i]);
    for (const u of units) expect(u.map((c) => g[c]).sort().join('')).toBe('123456789');
  },
};

describe('showcase outputs agree with independent JS models', () => {
  for (const [name, model] of Object.entries(showcaseModels)) {
    it(name, () => {
      const p = showcase(name);
      expect(p.runs.length).toBeGreaterThan(0);
      for (const r of p.runs) model(r.input, r.output!);
    });
  }
});

// --- the modules stay in the i32 subset the compiler targets ---

/** Opcodes outside i32 integer code: i64/f32/f64 ops, call_indirect, 0xFC-prefixed (key >= 0xfc00). */
function isForeignOpcode(op: number): boolean {
  return op === 0x11 || (op >= 0x42 && op <= 0x44) || (op >= 0x29 && op <= 0x2b) || (op >= 0x30 && op <= 0x35)
    || (op >= 0x37 && op <= 0x39) || (op >= 0x3c && op <= 0x3e) || (op >= 0x50 && op <= 0x66) || op >= 0x79;
}

describe('every C module is i32-only with env.output_byte as its only import', () => {
  const sources = [...catalogue.samples.map((s) => s.source), ...catalogue.showcase.map((p) => p.source)];
  for (const src of sources) {
    for (const opt of OPT_LEVELS) {
      it(`${src} -${opt}`, async () => {
        const wasm = readWasm(src, opt);
        const mod = await WebAssembly.compile(new Uint8Array(wasm));
        for (const imp of WebAssembly.Module.imports(mod)) expect(`${imp.module}.${imp.name}`).toBe('env.output_byte');
        const instrs = scanCode(wasm).flatMap((f) => f.instrs);
        expect(instrs.length).toBeGreaterThan(0);
        expect(instrs.filter((i) => isForeignOpcode(i.key)).map((i) => `${i.name} at ${i.start}`)).toEqual([]);
      });
    }
  }
});

// --- harness/io.ts itself ---

const ECHO_WAT = `(module
  (import "env" "output_byte" (func $out (param i32)))
  (memory (export "memory") 1)
  (global (export "__heap_base") i32 (i32.const 1024))
  (func (export "echo") (param $p i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
      (call $out (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))))
  (func (export "where") (param $p i32) (result i32) (local.get $p))
  (func (export "spam") (loop $l (call $out (i32.const 0x141)) (br $l)))
  (func (export "boom") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))`;

describe('harness/io.ts', () => {
  it('writes the input and a NUL at __heap_base and passes its address for @input', async () => {
    const wasm = await watToWasmBytes(ECHO_WAT);
    const o = await runIo(wasm, { invoke: 'echo', args: ['@input'], input: 'abc', keepMemory: true });
    expect(o.text).toBe('abc');
    expect(o.inputAt).toBe(1024);
    expect([...o.memory!.subarray(1024, 1028)]).toEqual([97, 98, 99, 0]);
    expect((await runIo(wasm, { invoke: 'where', args: ['@input', ] })).results).toEqual([1024]);
  });
  it('honours inputAt and raw byte input, keeping only the low byte of output_byte', async () => {
    const wasm = await watToWasmBytes(ECHO_WAT);
    const o = await runIo(wasm, { invoke: 'echo', args: ['@input'], input: Uint8Array.from([0xff, 7]), inputAt: 4000 });
    expect([...o.output]).toEqual([0xff, 7]);
    expect(o.inputAt).toBe(4000);
    expect((await runIo(wasm, { invoke: 'where', args: ['@input'], inputAt: 77 })).results).toEqual([77]);
  });
  it('reports traps in spec wording and runs each call on a fresh instance', async () => {
    const wasm = await watToWasmBytes(ECHO_WAT);
    const prog = await IoProgram.compile(wasm);
    expect((await prog.run({ invoke: 'boom', args: [0] })).trap).toBe('integer divide by zero');
    expect((await prog.run({ invoke: 'boom', args: [1] })).results).toEqual([1]);
    await prog.run({ invoke: 'echo', args: ['@input'], input: 'xyz' });
    expect((await prog.run({ invoke: 'echo', args: ['@input'] })).text).toBe('');
  });
  it('stops runaway output and rejects bad calls with one-line RunErrors', async () => {
    const wasm = await watToWasmBytes(ECHO_WAT);
    await expect(runIo(wasm, { invoke: 'spam', maxOutputBytes: 100 })).rejects.toThrow(/output exceeds 100 bytes/);
    await expect(runIo(wasm, { invoke: 'nope' })).rejects.toThrow(RunError);
    await expect(runIo(wasm, { invoke: 'echo', args: [] })).rejects.toThrow(/takes 1 argument/);
    await expect(runIo(wasm, { invoke: 'echo', args: ['@input'], input: 'x', inputAt: 65536 })).rejects.toThrow(/does not fit/);
    const other = await watToWasmBytes('(module (import "env" "getc" (func (result i32))))');
    await expect(IoProgram.compile(other)).rejects.toThrow(/only env.output_byte/);
  });
  it('parses CLI arguments and resolves @input', () => {
    expect(parseIoArg('@input')).toBe('@input');
    expect(parseIoArg('42')).toBe(42);
    expect(parseIoArg('-7')).toBe(-7);
    expect(parseIoArg('0xffffffff')).toBe(-1);
    expect(() => parseIoArg('seven')).toThrow(RunError);
    expect(resolveArgs(['@input', 3], 1024, 'f')).toEqual([1024, 3]);
    expect(() => resolveArgs(['@input'], null, 'f')).toThrow(/needs an input address/);
    expect([...inputImage('hi')]).toEqual([104, 105, 0]);
  });
});

// --- harness/wasm_count.ts ---

const COUNT_WAT = `(module
  (import "env" "output_byte" (func $out (param i32)))
  (func (export "loop3") (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
    (call $out (local.get $i))
    (local.get $i)))`;

describe('harness/wasm_count.ts', () => {
  it('counts static instructions, segments and the opcode histogram', async () => {
    const st = staticStats(await watToWasmBytes(COUNT_WAT));
    // loop, get, const, add, set, get, const, lt_u, br_if, end, get, call, get, end
    expect(st.instructions).toBe(14);
    expect(st.histogram['local.get']).toBe(4);
    expect(st.histogram['loop']).toBe(1);
    expect(st.segments).toBe(4); // [loop] [get .. br_if] [end] [get call get end]
  });
  it('instrumented modules count each executed instruction and behave as before', async () => {
    const { wasm, counters } = instrumentCounting(await watToWasmBytes(COUNT_WAT));
    const out: number[] = [];
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(wasm)), {
      env: { output_byte: (b: number) => out.push(b) },
    });
    expect((inst.exports.loop3 as () => number)()).toBe(3);
    expect(out).toEqual([3]);
    const count = (name: string): number => (inst.exports[counters[name]!] as WebAssembly.Global).value as number;
    expect(count('loop')).toBe(3);
    expect(count('i32.add')).toBe(3);
    expect(count('br_if')).toBe(3);
    expect(count('local.get')).toBe(3 * 2 + 2);
    expect(count('call')).toBe(1);
    expect(count('end')).toBe(2); // the loop's, by falling through, and the function's
    expect(Object.values(counters).every((e) => e.startsWith(COUNT_EXPORT_PREFIX))).toBe(true);
  });
  it('per-function counters add up to the per-opcode total; the name section names functions', async () => {
    const wasm = readWasm('showcase/collatz.c', 'O0');
    const names = functionNames(wasm);
    expect([...names.values()]).toContain('put_uint');
    const totals: number[] = [];
    for (const perFunction of [false, true]) {
      const { wasm: counted, counters } = instrumentCounting(wasm, { perFunction });
      const inst = await WebAssembly.instantiate(await WebAssembly.compile(new Uint8Array(counted)), {
        env: { output_byte: () => undefined },
      });
      const mem = inst.exports.memory as WebAssembly.Memory;
      const at = (inst.exports.__heap_base as WebAssembly.Global).value as number;
      new Uint8Array(mem.buffer).set([50, 55, 0], at); // "27"
      (inst.exports.compute as (p: number) => void)(at);
      totals.push(Object.values(counters).reduce((n, e) => n + ((inst.exports[e] as WebAssembly.Global).value as number), 0));
      if (perFunction) expect(Object.keys(counters).every((k) => /^func\[\d+\]$/.test(k))).toBe(true);
    }
    expect(totals[0]).toBeGreaterThan(1000);
    expect(totals[1]).toBe(totals[0]);
  });
  it('instrumented showcase programs print exactly what the originals print', async () => {
    for (const p of catalogue.showcase) {
      const { wasm } = instrumentCounting(readWasm(p.source, 'O2'));
      const r = p.runs[0]!;
      expect((await runIo(wasm, { invoke: 'compute', args: ['@input'], input: r.input })).text).toBe(r.output);
    }
  });
});
