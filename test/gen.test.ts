// test/gen.test.ts — checks the random program generator (test/gen/random_program.ts):
// 300 generated programs assemble, validate and run natively on random args,
// every run terminates within the generator's static step bound (measured
// with an instrumented build in a worker thread, so a runaway loop fails the
// test instead of hanging it), and the corpus really covers the features the
// differential tests rely on (loops, loads, stores, br_if, traps, data, ...).

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { NativeInstance } from '../harness/native.js';
import {
  STEP_LIMIT,
  arbArgs,
  arbChoices,
  arbProgram,
  generateProgram,
  watToWasmBytes,
  type GenProgram,
} from './gen/random_program.js';

const N_PROGRAMS = 300;
const ARGS_PER_PROGRAM = 6;
const SEED = 0x5eed;

interface Job {
  wasm: Uint8Array<ArrayBuffer>;
  exportName: string;
  argsList: number[][];
}

interface WorkerRun {
  results: number[];
  trap: string | null;
  steps: number;
}

// Runs instrumented modules and reports results, traps and the step counter.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const out = [];
for (const job of workerData) {
  const runs = [];
  for (const args of job.argsList) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(job.wasm), {});
    let results = [], trap = null;
    try {
      const r = inst.exports[job.exportName](...args);
      results = r === undefined ? [] : Array.isArray(r) ? r.map((v) => v | 0) : [r | 0];
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      trap = String(e.message);
    }
    runs.push({ results, trap, steps: inst.exports.__steps() });
  }
  out.push(runs);
}
parentPort.postMessage(out);
`;

function runInWorker(jobs: Job[], timeoutMs: number): Promise<WorkerRun[][]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: jobs });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`generated programs did not terminate within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (msg: WorkerRun[][]) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(msg);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

interface Entry {
  choices: number[];
  prog: GenProgram;
  wasm: Uint8Array<ArrayBuffer>;
  instrumented: Uint8Array<ArrayBuffer>;
  argsList: number[][];
}

describe('random program generator', () => {
  const entries: Entry[] = [];
  let measured: WorkerRun[][] = [];

  beforeAll(async () => {
    const choiceSets = fc.sample(arbChoices, { numRuns: N_PROGRAMS, seed: SEED });
    let argSeed = SEED;
    for (const choices of choiceSets) {
      const prog = generateProgram(choices);
      const wasm = await watToWasmBytes(prog.wat);
      const instrumented = await watToWasmBytes(generateProgram(choices, { instrument: true }).wat);
      const argsList = fc.sample(arbArgs(prog.params), { numRuns: ARGS_PER_PROGRAM, seed: argSeed++ });
      entries.push({ choices, prog, wasm, instrumented, argsList });
    }
    measured = await runInWorker(
      entries.map((e) => ({ wasm: e.instrumented, exportName: e.prog.exportName, argsList: e.argsList })),
      60_000,
    );
  });

  it('generates 300 programs that assemble and validate', () => {
    expect(entries).toHaveLength(N_PROGRAMS);
    for (const e of entries) {
      expect(WebAssembly.validate(e.wasm), e.prog.wat).toBe(true);
      expect(e.prog.stepBound).toBeGreaterThanOrEqual(1);
      expect(e.prog.stepBound).toBeLessThanOrEqual(STEP_LIMIT);
      expect(e.prog.params).toBeGreaterThanOrEqual(0);
      expect(e.prog.params).toBeLessThanOrEqual(4);
      expect([0, 1, 2]).toContain(e.prog.memoryPages);
      if (e.prog.memoryPages === 0) {
        expect(e.prog.wat).not.toMatch(/i32\.(load|store)|\(memory/);
      } else {
        expect(e.prog.wat).toContain(`(memory ${e.prog.memoryPages})`);
      }
      // only subset instructions in the plain build
      const ops = e.prog.wat.match(/\b(?:[a-z0-9]+\.[a-z0-9_]+|block|loop|br_if|br|nop|drop|call|global|if|select|return)\b/g) ?? [];
      const allowed = new Set(['i32.const', 'i32.add', 'i32.load', 'i32.store', 'local.get', 'local.set', 'local.tee', 'block', 'loop', 'br', 'br_if', 'nop', 'drop']);
      for (const op of ops) expect(allowed.has(op), `${op} in\n${e.prog.wat}`).toBe(true);
    }
  });

  it('is deterministic in its choice sequence and handles an empty one', async () => {
    for (const e of entries.slice(0, 20)) expect(generateProgram(e.choices)).toEqual(e.prog);
    const trivial = generateProgram([]);
    expect(WebAssembly.validate(await watToWasmBytes(trivial.wat))).toBe(true);
    expect(trivial.stepBound).toBe(1);
  });

  it('runs every program natively: results or an out-of-bounds trap, within the step bound', async () => {
    expect(measured).toHaveLength(N_PROGRAMS);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const runs = measured[i]!;
      const inst = await NativeInstance.create(e.wasm);
      expect(inst.exports()).toEqual([e.prog.exportName]);
      expect(inst.paramCount(e.prog.exportName)).toBe(e.prog.params);
      for (let j = 0; j < e.argsList.length; j++) {
        const args = e.argsList[j]!;
        const m = runs[j]!;
        // the plain build (fresh instance) behaves exactly like the instrumented one
        const plain = await NativeInstance.create(e.wasm);
        const out = plain.invoke(e.prog.exportName, args);
        const ctx = `${e.prog.description}\nargs ${JSON.stringify(args)}\n${e.prog.wat}`;
        if (out.trap === null) {
          expect(out.results, ctx).toHaveLength(e.prog.results);
          for (const r of out.results) expect(Number.isInteger(r) && r === (r | 0), ctx).toBe(true);
          expect(m.trap, ctx).toBeNull();
          expect(m.results, ctx).toEqual(out.results);
        } else {
          expect(out.trap, ctx).toBe('out of bounds memory access');
          expect(m.trap, ctx).not.toBeNull();
        }
        expect(m.steps, ctx).toBeGreaterThanOrEqual(1);
        expect(m.steps, ctx).toBeLessThanOrEqual(e.prog.stepBound);
        expect(out.memory.length).toBe(e.prog.memoryPages * 65536);
      }
    }
  });

  it('covers loops, loads, stores, br/br_if, result blocks, data segments, traps and all memory sizes', async () => {
    const sum = (f: (p: GenProgram) => number): number => entries.reduce((n, e) => n + (f(e.prog) > 0 ? 1 : 0), 0);
    const count = {
      loops: sum((p) => p.features.loops),
      stores: sum((p) => p.features.stores),
      loads: sum((p) => p.features.loads),
      brIfs: sum((p) => p.features.brIfs),
      brs: sum((p) => p.features.brs),
      blocks: sum((p) => p.features.blocks),
      resultBlocks: sum((p) => p.features.resultBlocks),
      data: sum((p) => p.features.dataSegments),
      risky: sum((p) => p.features.riskyAddresses),
      tees: sum((p) => p.features.tees),
    };
    // the features really show up in the text, too
    expect(sum((p) => (/\(loop/.test(p.wat) ? 1 : 0))).toBe(count.loops);
    expect(sum((p) => (/i32\.store/.test(p.wat) ? 1 : 0))).toBe(count.stores);
    expect(sum((p) => (/\(data /.test(p.wat) ? 1 : 0))).toBe(count.data);
    for (const [k, v] of Object.entries(count)) expect(v, k).toBeGreaterThanOrEqual(20);

    const pages = new Set(entries.map((e) => e.prog.memoryPages));
    expect([...pages].sort()).toEqual([0, 1, 2]);
    const results = new Set(entries.map((e) => e.prog.results));
    expect([...results].sort()).toEqual([0, 1]);
    const params = new Set(entries.map((e) => e.prog.params));
    expect(params.size).toBe(5);

    const runs = measured.flat();
    const traps = runs.filter((r) => r.trap !== null).length;
    expect(traps).toBeGreaterThan(0); // out-of-bounds accesses happen...
    expect(traps / runs.length).toBeLessThan(0.4); // ...but most runs complete
    const steps = runs.map((r) => r.steps);
    expect(Math.max(...steps)).toBeGreaterThanOrEqual(60); // loops really iterate
    const loopy = entries.filter((e, i) => e.prog.features.loops > 0 && measured[i]!.some((r) => r.steps >= 20));
    expect(loopy.length).toBeGreaterThanOrEqual(20);
    // results depend on the arguments (not all constant)
    const varying = entries.filter((_e, i) => {
      const rs = measured[i]!.filter((r) => r.trap === null).map((r) => JSON.stringify(r.results));
      return new Set(rs).size > 1;
    });
    expect(varying.length).toBeGreaterThanOrEqual(50);
  });

  it('fast-check property: arbitrary programs assemble and validate', async () => {
    await fc.assert(
      fc.asyncProperty(arbProgram, async (p) => {
        const wasm = await watToWasmBytes(p.wat);
        return WebAssembly.validate(wasm) && p.stepBound <= STEP_LIMIT;
      }),
      { numRuns: 100, seed: SEED + 1 },
    );
  });

  it('arbArgs gives the right arity, i32 values and edge values', () => {
    const all = fc.sample(arbArgs(3), { numRuns: 500, seed: SEED });
    for (const a of all) {
      expect(a).toHaveLength(3);
      for (const x of a) expect(x === (x | 0)).toBe(true);
    }
    const flat = new Set(all.flat());
    for (const edge of [0, 1, -1, -2147483648, 2147483647]) expect(flat.has(edge), String(edge)).toBe(true);
    expect(all.flat().filter((x) => x >= 0 && x <= 256).length).toBeGreaterThan(200);
    expect(fc.sample(arbArgs(0), { numRuns: 3, seed: 1 })).toEqual([[], [], []]);
  });

  it('default programs are unchanged by the opt-in extended set (pinned digest of 200 programs)', () => {
    // The backend's transformer tests depend on this output: extended choices must never leak in.
    const h = createHash('sha256');
    for (const c of fc.sample(arbChoices, { numRuns: 200, seed: 424242 })) {
      const p = generateProgram(c);
      h.update(p.wat);
      h.update(String(p.stepBound));
      h.update(generateProgram(c, { instrument: true }).wat);
    }
    expect(h.digest('hex')).toBe('f2640f4c04d4e3bcc55ab6d98ac730d430e39cf5ce8148f6ce6c8b59ce181eed');
  });

  it('extended programs use the whole instruction set and declare what they use', () => {
    const progs = fc.sample(arbChoices, { numRuns: 100, seed: 99 }).map((c) => generateProgram(c, { extended: true }));
    const text = progs.map((p) => p.wat).join('\n');
    for (const op of ['i32.mul', 'i32.div_s', 'i32.rem_u', 'i32.rotl', 'i32.shr_s', 'i32.clz', 'i32.popcnt', 'i32.extend8_s',
      'i32.lt_u', 'i32.ge_s', 'select', 'if (result i32)', 'br_table', 'global.set', 'global.get', 'call $rec_entry',
      'i32.load8_s', 'i32.load16_u', 'i32.store8', 'i32.store16', 'memory.grow', 'memory.size', 'call $output_byte', 'unreachable']) {
      expect(text, op).toContain(op);
    }
    expect(() => generateProgram([], { extended: true, instrument: true })).toThrow(/cannot be instrumented/);
  });
});

