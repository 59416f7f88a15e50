// ir/interp.ts — reference interpreter for the IR.
//
// Executes functions with WebAssembly semantics: the pure operators from
// ir/instructions.ts (wrap-around arithmetic, comparisons as 0/1, div/rem
// traps), little-endian loads/stores of 1, 2 or 4 bytes with the exact
// bounds rule (ea = addr_u32 + offset, no wrap; trap if ea + bytes > memory
// size; a trapping store writes nothing), memory.grow up to the module's
// maxPages, i32 globals, output bytes, and direct calls on a call stack of
// at most maxCallDepth frames (the entry function is frame 1; one more traps
// "call stack exhausted"). Counts steps as executed blocks (the entry block
// is step 1; a call's block, each callee block and the continuation are one
// step each). Traps are results (trap message + TrapCode); running past the
// step limit is a RunError unless stopAtLimit asks for the state reached.
//
// State (memory and globals) persists across calls when the caller passes it:
// IRInstance is the instance-like API (invoke(name, args) on one state).

import { RunError } from '../frontend/errors.js';
import { TrapCode, trapMessage } from '../format/errors.js';
import { evalBinary, evalUnary } from './instructions.js';
import {
  MAX_MEMORY_PAGES, PAGE_SIZE, initialGlobals, initialMemory, instDst, instGuard,
  type Block, type BlockTarget, type Func, type Inst, type Module,
} from './ir.js';

/** The mutable state of an instance: its memory (replaced when it grows) and globals. */
export interface IRState {
  memory: Uint8Array;
  globals: number[];
}

export interface InterpOptions {
  /** Memory to run on (mutated; ignored when `state` is given). */
  memory?: Uint8Array;
  /** State to run on (mutated: memory replaced on growth, globals written). */
  state?: IRState;
  maxSteps?: number;
  /** At the step limit, return the state reached (truncated) instead of throwing. */
  stopAtLimit?: boolean;
  maxCallDepth?: number;
}

export interface InterpResult {
  results: number[]; // signed i32
  steps: number;
  trap: string | null; // the trap message (TRAP_MESSAGES), null if none
  trapCode: TrapCode | null;
  memory: Uint8Array; // the final memory
  globals: number[]; // the final globals
  output: number[]; // bytes written with env.output_byte
  /** With stopAtLimit: the block about to run after maxSteps steps, its function and arguments. */
  truncated?: { func: string; block: number; args: number[]; depth: number };
}

export const DEFAULT_MAX_STEPS = 10_000_000;
export const DEFAULT_MAX_CALL_DEPTH = 1024;
export const TRAP_OOB = trapMessage(TrapCode.OutOfBounds);

class TrapSignal extends Error {
  constructor(readonly code: TrapCode) {
    super(trapMessage(code));
  }
}

/** Find a function by IR name or export name. */
export function findFunc(mod: Module, name: string): Func {
  const f = mod.funcs.find((x) => x.name === name) ?? mod.funcs.find((x) => x.exportNames.includes(name));
  if (!f) {
    const known = mod.funcs.flatMap((x) => [x.name, ...x.exportNames]);
    throw new RunError(`unknown function "${name}" (known: ${[...new Set(known)].join(', ') || 'none'})`);
  }
  return f;
}

interface FuncInfo {
  f: Func;
  numValues: number;
  maxParams: number;
}

function funcInfo(f: Func): FuncInfo {
  let max = 0;
  let maxParams = 0;
  for (const b of f.blocks) {
    maxParams = Math.max(maxParams, b.params.length);
    for (const p of b.params) max = Math.max(max, p);
    for (const i of b.insts) max = Math.max(max, instDst(i) ?? 0);
  }
  return { f, numValues: max + 1, maxParams };
}

interface Activation {
  info: FuncInfo;
  vals: Int32Array; // Int32Array stores wrap to i32
  cont: BlockTarget | null; // where the caller continues (null: the entry function)
}

/** Executes one invocation on a state. */
class Machine {
  private mem: DataView;
  readonly output: number[] = [];
  private readonly infos = new Map<string, FuncInfo>();
  private scratch = new Int32Array(16);

  constructor(private readonly mod: Module, readonly state: IRState) {
    this.mem = this.view();
  }

  private view(): DataView {
    const m = this.state.memory;
    return new DataView(m.buffer, m.byteOffset, m.byteLength);
  }

  info(name: string): FuncInfo {
    let i = this.infos.get(name);
    if (!i) {
      i = funcInfo(findFunc(this.mod, name));
      this.infos.set(name, i);
      if (i.maxParams > this.scratch.length) this.scratch = new Int32Array(i.maxParams);
    }
    return i;
  }

  private ea(addr: number, offset: number, bytes: number): number {
    const ea = (addr >>> 0) + offset;
    if (ea + bytes > this.mem.byteLength) throw new TrapSignal(TrapCode.OutOfBounds);
    return ea;
  }

  private load(addr: number, offset: number, bytes: 1 | 2 | 4, signed: boolean): number {
    const ea = this.ea(addr, offset, bytes);
    if (bytes === 4) return this.mem.getInt32(ea, true);
    if (bytes === 2) return signed ? this.mem.getInt16(ea, true) : this.mem.getUint16(ea, true);
    return signed ? this.mem.getInt8(ea) : this.mem.getUint8(ea);
  }

  private store(addr: number, offset: number, bytes: 1 | 2 | 4, value: number): void {
    const ea = this.ea(addr, offset, bytes);
    if (bytes === 4) this.mem.setInt32(ea, value, true);
    else if (bytes === 2) this.mem.setInt16(ea, value, true);
    else this.mem.setInt8(ea, value);
  }

  private grow(delta: number): number {
    const old = this.state.memory.length / PAGE_SIZE;
    const max = this.mod.memory?.maxPages ?? MAX_MEMORY_PAGES;
    const d = delta >>> 0;
    if (!this.mod.memory || old + d > max) return -1;
    if (d === 0) return old;
    const next = new Uint8Array((old + d) * PAGE_SIZE);
    next.set(this.state.memory);
    this.state.memory = next;
    this.mem = this.view();
    return old;
  }

  exec(i: Inst, v: Int32Array): void {
    const g = instGuard(i);
    if (g !== undefined && v[g] === 0) {
      if (i.op === 'load') v[i.dst] = 0; // a guarded access that does not happen (merge_steps.ts)
      return;
    }
    switch (i.op) {
      case 'iconst': v[i.dst] = i.value; return;
      case 'unary': v[i.dst] = evalUnary(i.code, v[i.a] as number); return;
      case 'binary': {
        const r = evalBinary(i.code, v[i.a] as number, v[i.b] as number);
        if ('trap' in r) throw new TrapSignal(r.trap);
        v[i.dst] = r.value;
        return;
      }
      case 'select': v[i.dst] = (v[i.cond] as number) !== 0 ? (v[i.a] as number) : (v[i.b] as number); return;
      case 'load': v[i.dst] = this.load(v[i.addr] as number, i.offset, i.bytes, i.signed); return;
      case 'store': this.store(v[i.addr] as number, i.offset, i.bytes, v[i.value] as number); return;
      case 'global_get': v[i.dst] = this.state.globals[i.index] as number; return;
      case 'global_set': this.state.globals[i.index] = v[i.value] as number; return;
      case 'memory_size': v[i.dst] = this.state.memory.length / PAGE_SIZE; return;
      case 'memory_grow': v[i.dst] = this.grow(v[i.delta] as number); return;
      case 'output': this.output.push((v[i.value] as number) & 0xff); return;
      case 'poison': throw new Error(`the IR interpreter reached poison (${i.what} at 0x${i.offset.toString(16)}): compileToIR rejects such IR`);
    }
  }

  /** Move to a target: all args are read before any param is written; `pre` values come first. */
  enter(f: Func, t: BlockTarget, from: Int32Array, to: Int32Array, pre: number[] = []): Block {
    const b = f.blocks[t.block] as Block;
    const n = t.args.length;
    const s = this.scratch;
    for (let k = 0; k < n; k++) s[k] = from[t.args[k] as number] as number;
    pre.forEach((x, k) => { to[b.params[k] as number] = x; });
    for (let k = 0; k < n; k++) to[b.params[pre.length + k] as number] = s[k] as number;
    return b;
  }
}

function result(m: Machine, steps: number, rest: Partial<InterpResult>): InterpResult {
  return {
    results: [], steps, trap: null, trapCode: null, memory: m.state.memory, globals: m.state.globals, output: m.output, ...rest,
  };
}

/** Run `funcName` on `state` (a fresh one from the module unless given). */
export function interpret(mod: Module, funcName: string, args: number[], opts: InterpOptions = {}): InterpResult {
  const entry = findFunc(mod, funcName);
  if (args.length !== entry.numParams) {
    throw new RunError(`function "${funcName}" takes ${entry.numParams} arguments, got ${args.length}`);
  }
  const state = opts.state ?? { memory: opts.memory ?? initialMemory(mod), globals: initialGlobals(mod) };
  const m = new Machine(mod, state);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const maxDepth = opts.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH;
  const stack: Activation[] = [];
  let act: Activation = { info: m.info(entry.name), vals: new Int32Array(0), cont: null };
  act.vals = new Int32Array(act.info.numValues);
  let block = entry.blocks[0] as Block;
  block.params.forEach((p, k) => { act.vals[p] = args[k] as number; });
  let steps = 1;
  try {
    for (;; steps++) {
      if (steps > maxSteps) {
        if (!opts.stopAtLimit) throw new RunError(`step limit exceeded (${maxSteps} steps)`);
        const f = act.info.f;
        const truncated = { func: f.name, block: f.blocks.indexOf(block), args: block.params.map((p) => act.vals[p] as number), depth: stack.length + 1 };
        return result(m, maxSteps, { truncated });
      }
      const v = act.vals;
      for (const i of block.insts) m.exec(i, v);
      const t = block.term;
      const f = act.info.f;
      switch (t.op) {
        case 'jump': block = m.enter(f, t.target, v, v); break;
        case 'br_if': block = m.enter(f, (v[t.cond] as number) !== 0 ? t.then : t.else, v, v); break;
        case 'br_table': {
          const k = (v[t.index] as number) >>> 0;
          block = m.enter(f, k < t.targets.length ? (t.targets[k] as BlockTarget) : t.default, v, v);
          break;
        }
        case 'trap': throw new TrapSignal(t.code);
        case 'call': {
          if (stack.length + 1 >= maxDepth) throw new TrapSignal(TrapCode.CallStackExhausted);
          const info = m.info(t.func);
          const callee: Activation = { info, vals: new Int32Array(info.numValues), cont: t.cont };
          const b0 = info.f.blocks[0] as Block;
          t.args.forEach((a, k) => { callee.vals[b0.params[k] as number] = v[a] as number; });
          stack.push(act);
          act = callee;
          block = b0;
          break;
        }
        case 'return': {
          const values = t.values.map((x) => v[x] as number);
          const caller = stack.pop();
          if (!caller || !act.cont) return result(m, steps, { results: values });
          block = m.enter(caller.info.f, act.cont, caller.vals, caller.vals, values);
          act = caller;
          break;
        }
      }
    }
  } catch (e) {
    if (e instanceof TrapSignal) return result(m, steps, { trap: e.message, trapCode: e.code });
    throw e;
  }
}

/** An instance of an IR module: one memory and one set of globals shared by every invoke. */
export class IRInstance {
  readonly state: IRState;

  constructor(readonly mod: Module) {
    this.state = { memory: initialMemory(mod), globals: initialGlobals(mod) };
  }

  invoke(name: string, args: number[], opts: Omit<InterpOptions, 'state' | 'memory'> = {}): InterpResult {
    return interpret(this.mod, name, args, { ...opts, state: this.state });
  }

  /** The current memory (not a copy). */
  memory(): Uint8Array {
    return this.state.memory;
  }

  /** The value of a global by IR index or export name (undefined if there is none). */
  global(which: number | string): number | undefined {
    const i = typeof which === 'number' ? which : this.mod.globals.findIndex((g) => g.name === which);
    return i < 0 ? undefined : this.state.globals[i];
  }
}
