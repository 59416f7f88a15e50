// test/samples_native.test.ts — the hand-written samples (wasm-samples/) and the
// native oracle (runtime/native.ts): every committed .wasm matches its .wat,
// instantiates natively, and reproduces every case in samples.json; random
// args inside each export's argRanges run to completion; independent JS
// models confirm what the samples are documented to compute; and
// NativeInstance's own behaviour (memory persistence, hidden memory export,
// trap wording, argument checks) is pinned down.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NativeInstance, normalizeTrapMessage, runNative, trapCodeOfNative } from '../harness/native.js';
import { TRAP_MESSAGES, TrapCode } from '../format/errors.js';
import { SAMPLES_DIR, loadSamples, sampleWasm, type ArgRange, type Sample } from '../wasm-samples/samples.js';
import { watToWasmBytes } from './gen/random_program.js';

const samples = loadSamples();
const OOB = 'out of bounds memory access';

function sampleNamed(name: string): Sample {
  const s = samples.find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s;
}

function arbInRange(r: ArgRange): fc.Arbitrary<number> {
  return r === 'any' ? fc.integer({ min: -2147483648, max: 2147483647 }) : fc.integer({ min: r[0], max: r[1] });
}

function randomArgs(ranges: ArgRange[], n: number, seed: number): number[][] {
  return fc.sample(fc.tuple(...ranges.map(arbInRange)), { numRuns: n, seed }).map((t) => [...t]);
}

// --- a tiny byte-addressed memory model for the reference implementations ---

class TrapError extends Error {}

class ModelMemory {
  constructor(readonly bytes: Uint8Array) {}
  private ea(addr: number, offset: number): number {
    const ea = (addr >>> 0) + offset;
    if (ea + 4 > this.bytes.length) throw new TrapError(OOB);
    return ea;
  }
  load(addr: number, offset = 0): number {
    const ea = this.ea(addr, offset);
    const b = this.bytes;
    return (b[ea]! | (b[ea + 1]! << 8) | (b[ea + 2]! << 16) | (b[ea + 3]! << 24)) | 0;
  }
  store(addr: number, v: number, offset = 0): void {
    const ea = this.ea(addr, offset);
    for (let k = 0; k < 4; k++) this.bytes[ea + k] = (v >>> (8 * k)) & 0xff;
  }
}

type Model = (args: number[], mem: ModelMemory) => number[];

const add = (...xs: number[]): number => xs.reduce((a, b) => (a + b) | 0, 0);
const tri = (n: number): number => (n * (n + 1)) / 2;

/** Independent models of what each sample export is documented to compute. */
const MODELS: Record<string, Record<string, Model>> = {
  lookup: {
    lookup: ([c], m) => [add(m.load(add(c!, c!, c!, c!)), 1)],
  },
  sum_to_n: { sum_to_n: ([n]) => [tri(n!) | 0] },
  array_sum: {
    array_sum: ([n], m) => {
      let acc = 0;
      for (let i = 0; i < n!; i++) acc = add(acc, m.load(256 + 4 * i));
      return [acc];
    },
    array_sum_at: ([base, n], m) => {
      let acc = 0;
      for (let i = n! - 1; i >= 0; i--) acc = add(acc, m.load(add(base!, 4 * i)));
      return [acc];
    },
  },
  copy_loop: {
    copy_loop: ([src, dst, n], m) => {
      let echo = 0;
      let acc = 0;
      for (let i = n! - 1; i >= 0; i--) {
        m.store(add(dst!, 4 * i), m.load(add(src!, 4 * i)));
        echo = add(echo, m.load(add(dst!, 4 * i)));
      }
      for (let i = n! - 1; i >= 0; i--) acc = add(acc, m.load(add(dst!, 4 * i)));
      return [add(acc, echo)];
    },
  },
  countdown: {
    countdown: ([n], m) => {
      for (let i = n!; i >= 1; i--) m.store(4 * i, i);
      return [n!];
    },
    sub_by_count: ([a, n]) => [(a! - n!) | 0],
  },
  nested_loops: { nested: ([a, b, x]) => [Math.imul(a! * b!, x!)] },
  many_live: {
    many_live: ([a, b]) => {
      const v: number[] = [];
      for (let i = 0; i < 48; i++) {
        if (i === 0) v.push(add(a!, 1));
        else if (i === 1) v.push(add(b!, -7));
        else if (i % 3 === 0) v.push(add(v[i - 1]!, a!));
        else if (i % 3 === 1) v.push(add(v[i - 2]!, Math.imul(i, 0x9e3779b1)));
        else v.push(add(v[i >> 1]!, b!));
      }
      return [add(...v)];
    },
  },
  unaligned: {
    unaligned: ([a, b, c], m) => {
      m.store(1, a!);
      m.store(3, b!);
      const x = m.load(2);
      m.store(6, c!);
      m.store(0, add(x, c!), 5);
      const y = m.load(1, 3);
      const z = add(m.load(0), m.load(0, 7));
      m.store(9, y);
      return [add(x, y, z, m.load(8))];
    },
    unaligned_at: ([addr, v], m) => {
      m.store(addr!, v!);
      m.store(addr!, add(v!, 1), 2);
      return [add(m.load(addr!, 1), m.load(addr!))];
    },
  },
  oob: {
    load_at: ([a], m) => [m.load(a!)],
    load_off: ([a], m) => [m.load(a!, 4)],
    store_load: ([a, v], m) => {
      m.store(a!, v!);
      return [add(m.load(a!), m.load(0))];
    },
  },
  block_results: {
    select: ([c, a, b]) => [c !== 0 ? a! : b!],
    classify: ([x, y]) => [x !== 0 ? 100 : y !== 0 ? 201 : 301],
    first_nonzero: ([a, b, c]) => [a !== 0 ? a! : b !== 0 ? b! : c !== 0 ? c! : -1],
    scan: ([n], m) => {
      for (let i = n!; i >= 1; i--) if (m.load(64 + 4 * (i - 1)) !== 0) return [i];
      return [0];
    },
    loop_value: ([n]) => [1000 + tri(n!)],
  },
  multi_export: {
    poke: ([addr, v], m) => {
      m.store(addr!, v!);
      m.store(addr!, add(v!, addr!), 4);
      return [];
    },
    peek: ([a], m) => [m.load(a!)],
    peek_alias: ([a], m) => [m.load(a!)],
    counter: (_args, m) => {
      const v = add(m.load(0), 1);
      m.store(0, v);
      return [v];
    },
    add3: ([a, b, c]) => [add(a!, b!, c!)],
  },
  data_segments: {
    peek: ([a], m) => [m.load(a!)],
    peek_sum: ([a], m) => [add(m.load(a!), m.load(a!, 3))],
    hello: (_args, m) => [add(m.load(100), m.load(104), m.load(108))],
  },
  fib: {
    fib: ([n]) => {
      let a = 0;
      let b = 1;
      for (let i = 0; i < n!; i++) [a, b] = [b, add(a, b)];
      return [a];
    },
  },
};

describe('sample catalogue', () => {
  it('has the required samples, trapping cases and sane metadata', () => {
    const names = samples.map((s) => s.name);
    for (const req of ['lookup', 'sum_to_n', 'array_sum', 'copy_loop', 'countdown', 'nested_loops', 'add_chain', 'many_live', 'unaligned']) {
      expect(names).toContain(req);
    }
    expect(new Set(names).size).toBe(names.length);
    const allCases = samples.flatMap((s) => s.exports.flatMap((e) => e.cases));
    expect(allCases.filter((c) => c.trap === OOB).length).toBeGreaterThanOrEqual(5);
    for (const s of samples) {
      expect(s.file).toBe(`${s.name}.wasm`);
      expect(s.source).toBe(`${s.name}.wat`);
      for (const e of s.exports) expect(e.cases.length).toBeGreaterThanOrEqual(1);
    }
    // the headline example
    const lookup = sampleNamed('lookup').exports[0]!;
    expect(lookup.cases.find((c) => c.args[0] === 66)?.results).toEqual([6]);
  });

  it('add_chain has 100+ dependent adds and many_live has 40+ locals', () => {
    const chain = readFileSync(join(SAMPLES_DIR, 'add_chain.wat'), 'utf8');
    expect(chain.match(/^\s*i32\.add\s*$/gm)?.length ?? 0).toBeGreaterThanOrEqual(100);
    const live = readFileSync(join(SAMPLES_DIR, 'many_live.wat'), 'utf8');
    expect(live.match(/\(local \$v\d+ i32\)/g)?.length ?? 0).toBeGreaterThanOrEqual(40);
  });

  it('has a model for every export', () => {
    for (const s of samples) {
      if (s.name === 'add_chain') continue; // cross-checked against the .wat text below
      for (const e of s.exports) expect(MODELS[s.name]?.[e.name], `${s.name}.${e.name}`).toBeTypeOf('function');
    }
  });
});

for (const sample of samples) {
  describe(`sample ${sample.name}`, () => {
    const wasm = sampleWasm(sample);

    it('committed .wasm is up to date with the .wat (rebuild with wasm-samples/build.sh)', async () => {
      const fromWat = await watToWasmBytes(readFileSync(join(SAMPLES_DIR, sample.source), 'utf8'));
      expect(Buffer.from(wasm).equals(Buffer.from(fromWat))).toBe(true);
    });

    it('instantiates natively with the declared exports and arities', async () => {
      expect(WebAssembly.validate(wasm)).toBe(true);
      const inst = await NativeInstance.create(wasm);
      expect(inst.exports().sort()).toEqual(sample.exports.map((e) => e.name).sort());
      for (const e of sample.exports) expect(inst.paramCount(e.name)).toBe(e.params);
    });

    for (const ex of sample.exports) {
      it(`${ex.name}: every samples.json case matches natively`, async () => {
        for (const c of ex.cases) {
          const out = await runNative(wasm, ex.name, c.args);
          const label = `${sample.name}.${ex.name}(${c.args.join(', ')})`;
          if (c.trap !== undefined) {
            expect(out.trap, label).toBe(c.trap);
          } else {
            expect(out.trap, label).toBeNull();
            expect(out.results, label).toEqual(c.results);
          }
        }
      });

      it(`${ex.name}: agrees with an independent model on cases and random in-range args`, async () => {
        const fresh = await NativeInstance.create(wasm);
        const initial = fresh.memory();
        const model = MODELS[sample.name]?.[ex.name];
        const argsList = [...ex.cases.map((c) => c.args), ...randomArgs(ex.argRanges, 40, 17)];
        for (const args of argsList) {
          const out = await runNative(wasm, ex.name, args);
          const label = `${sample.name}.${ex.name}(${args.join(', ')})`;
          if (out.trap === null) expect(out.results, label).toHaveLength(ex.results);
          else expect(out.trap, label).toBe(OOB);
          if (!model) continue;
          const mem = new ModelMemory(initial.slice());
          let expected: number[] | null;
          try {
            expected = model(args, mem);
          } catch (e) {
            if (!(e instanceof TrapError)) throw e;
            expected = null;
          }
          if (expected === null) {
            expect(out.trap, label).toBe(OOB);
          } else {
            expect(out.trap, label).toBeNull();
            expect(out.results, label).toEqual(expected);
          }
          // memory after the call, including partial writes before a trap
          expect(Buffer.from(out.memory).equals(Buffer.from(mem.bytes)), `${label} memory`).toBe(true);
        }
      });
    }
  });
}

describe('add_chain model from its text', () => {
  it('evaluating the flat instruction list in JS gives the native results', async () => {
    const sample = sampleNamed('add_chain');
    const text = readFileSync(join(SAMPLES_DIR, sample.source), 'utf8');
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => /^(local\.|i32\.)/.test(l));
    const run = (a: number, b: number, c: number): number => {
      const locals: Record<string, number> = { $a: a, $b: b, $c: c, $t: 0 };
      const stack: number[] = [];
      for (const l of lines) {
        const [op, arg] = l.split(/\s+/);
        if (op === 'local.get') stack.push(locals[arg!]!);
        else if (op === 'local.tee') locals[arg!] = stack[stack.length - 1]!;
        else if (op === 'i32.const') stack.push(Number(arg) | 0);
        else if (op === 'i32.add') stack.push((stack.pop()! + stack.pop()!) | 0);
        else throw new Error(`unexpected ${l}`);
      }
      expect(stack).toHaveLength(1);
      return stack[0]!;
    };
    const ex = sample.exports[0]!;
    for (const args of [...ex.cases.map((c) => c.args), ...randomArgs(ex.argRanges, 30, 3)]) {
      const out = await runNative(sampleWasm(sample), ex.name, args);
      expect(out.results).toEqual([run(args[0]!, args[1]!, args[2]!)]);
    }
  });
});

describe('NativeInstance', () => {
  it('keeps memory across invoke calls on one instance; runNative starts fresh', async () => {
    const wasm = sampleWasm(sampleNamed('multi_export'));
    const inst = await NativeInstance.create(wasm);
    expect(inst.invoke('counter', []).results).toEqual([42]);
    expect(inst.invoke('counter', []).results).toEqual([43]);
    const poke = inst.invoke('poke', [100, -5]);
    expect(poke).toMatchObject({ results: [], trap: null });
    expect(inst.invoke('peek', [100]).results).toEqual([-5]);
    expect(inst.invoke('peek_alias', [104]).results).toEqual([95]);
    const mem = inst.memory();
    expect(mem.length).toBe(65536);
    expect(Array.from(mem.subarray(0, 4))).toEqual([43, 0, 0, 0]);
    mem[0] = 99; // a copy: does not write through
    expect(inst.invoke('peek', [0]).results).toEqual([43]);
    expect((await runNative(wasm, 'counter', [])).results).toEqual([42]);
  });

  it('reports traps with the spec wording and keeps writes made before the trap', async () => {
    const inst = await NativeInstance.create(sampleWasm(sampleNamed('unaligned')));
    const out = inst.invoke('unaligned_at', [65531, 0x11223344]);
    expect(out.trap).toBe(OOB);
    expect(out.results).toEqual([]);
    expect(Array.from(out.memory.subarray(65531, 65535))).toEqual([0x44, 0x33, 0x22, 0x11]);
    // the instance is still usable after a trap
    expect(inst.invoke('unaligned_at', [0, 1]).trap).toBeNull();
  });

  it('reads memory that the module does not export, and handles modules without memory', async () => {
    const wasm = await watToWasmBytes(
      '(module (memory 1) (data (i32.const 8) "\\2a") (func (export "put") (param i32) (i32.store (i32.const 0) (local.get 0))))',
    );
    const inst = await NativeInstance.create(wasm);
    expect(inst.exports()).toEqual(['put']);
    expect(inst.memory()[8]).toBe(42);
    inst.invoke('put', [0x01020304]);
    expect(Array.from(inst.memory().subarray(0, 4))).toEqual([4, 3, 2, 1]);

    const noMem = await NativeInstance.create(sampleWasm(sampleNamed('fib')));
    expect(noMem.memory().length).toBe(0);
    expect(noMem.invoke('fib', [10])).toEqual({ results: [55], trap: null, trapCode: null, memory: new Uint8Array(0), output: [] });

    const exported = await NativeInstance.create(
      await watToWasmBytes('(module (memory (export "mem") 1) (data (i32.const 0) "\\07") (func (export "f") (result i32) (i32.load (i32.const 0))))'),
    );
    expect(exported.exports()).toEqual(['f']);
    expect(exported.memory()[0]).toBe(7);
  });

  it('coerces args to i32 and returns signed results', async () => {
    const wasm = sampleWasm(sampleNamed('multi_export'));
    expect((await runNative(wasm, 'add3', [0xffffffff, 0, 0])).results).toEqual([-1]);
    expect((await runNative(wasm, 'add3', [0x80000000, 0, 0])).results).toEqual([-2147483648]);
    // multi-value results (outside wasmformer's subset, but the oracle handles them)
    const pair = await watToWasmBytes('(module (func (export "swap") (param i32 i32) (result i32 i32) (local.get 1) (local.get 0)))');
    expect((await runNative(pair, 'swap', [4294967295, 2147483648])).results).toEqual([-2147483648, -1]);
  });

  it('rejects unknown exports and wrong argument counts', async () => {
    const inst = await NativeInstance.create(sampleWasm(sampleNamed('fib')));
    expect(() => inst.invoke('nope', [])).toThrow(/no exported function "nope"/);
    expect(() => inst.invoke('fib', [])).toThrow(/takes 1 argument/);
    expect(() => inst.invoke('fib', [1, 2])).toThrow(/takes 1 argument/);
  });

  it('normalizes trap messages', () => {
    expect(normalizeTrapMessage('memory access out of bounds')).toBe(OOB);
    expect(normalizeTrapMessage('Out of bounds memory access')).toBe(OOB);
    expect(normalizeTrapMessage('unreachable')).toBe('unreachable');
    expect(normalizeTrapMessage('divide by zero')).toBe('integer divide by zero');
    expect(normalizeTrapMessage('Some Other Trap')).toBe('some other trap');
    // V8's own wordings map onto the TrapCode enum, and the messages come from TRAP_MESSAGES
    const v8: Array<[string, TrapCode]> = [
      ['divide by zero', TrapCode.IntegerDivideByZero], ['remainder by zero', TrapCode.IntegerDivideByZero],
      ['divide result unrepresentable', TrapCode.IntegerOverflow], ['memory access out of bounds', TrapCode.OutOfBounds],
      ['unreachable', TrapCode.Unreachable], ['Maximum call stack size exceeded', TrapCode.CallStackExhausted],
    ];
    for (const [m, code] of v8) {
      expect(trapCodeOfNative(m), m).toBe(code);
      expect(normalizeTrapMessage(m)).toBe(TRAP_MESSAGES[code]);
    }
    expect(trapCodeOfNative('Some Other Trap')).toBeNull();
  });

  it('reports every trap category with its TrapCode, and collects env.output_byte bytes across calls', async () => {
    const inst = await NativeInstance.create(await watToWasmBytes(`(module
      (import "env" "output_byte" (func $o (param i32))) (memory 1)
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "rem") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "u") unreachable)
      (func $r (export "r") (param i32) (result i32) (call $r (local.get 0)))
      (func (export "say") (param i32) (call $o (local.get 0)) (call $o (i32.const 10))))`));
    expect(inst.invoke('div', [1, 0]).trapCode).toBe(TrapCode.IntegerDivideByZero);
    expect(inst.invoke('rem', [1, 0]).trap).toBe(TRAP_MESSAGES[TrapCode.IntegerDivideByZero]);
    expect(inst.invoke('div', [-2147483648, -1]).trapCode).toBe(TrapCode.IntegerOverflow);
    expect(inst.invoke('load', [65535]).trapCode).toBe(TrapCode.OutOfBounds);
    expect(inst.invoke('u', []).trapCode).toBe(TrapCode.Unreachable);
    expect(inst.invoke('r', [0])).toMatchObject({ trap: 'call stack exhausted', trapCode: TrapCode.CallStackExhausted });
    expect(inst.invoke('say', [0x141]).output).toEqual([0x41, 10]);
    expect(inst.invoke('say', [66]).output).toEqual([66, 10]);
    expect(inst.output()).toEqual([0x41, 10, 66, 10]);
  });
});
