// ir/interp.ts — reference interpreter for the IR.
//
// Executes one function with WebAssembly semantics for the subset: i32
// wrap-around arithmetic, little-endian loads/stores with the exact bounds
// rule (ea = addr_u32 + offset, no wrap; trap if ea + 4 > memory length; a
// trapping store writes nothing). Counts steps as executed blocks (the entry
// block is step 1). The memory passed in is mutated and returned, so several
// calls can share one memory.

import { RunError } from '../frontend/errors.js';
import { initialMemory, type Block, type BlockTarget, type Func, type Inst, type Module } from './ir.js';

export interface InterpOptions {
  memory?: Uint8Array;
  maxSteps?: number;
  /** At the step limit, return the state reached (truncated) instead of throwing. */
  stopAtLimit?: boolean;
}

export interface InterpResult {
  results: number[]; // signed i32
  steps: number;
  trap: string | null;
  memory: Uint8Array;
  /** With stopAtLimit: the block about to run after maxSteps steps and its arguments. */
  truncated?: { block: number; args: number[] };
}

export const DEFAULT_MAX_STEPS = 10_000_000;
export const TRAP_OOB = 'out of bounds memory access';

class Trap extends Error {}

/** Find a function by IR name or export name. */
export function findFunc(mod: Module, name: string): Func {
  const f = mod.funcs.find((x) => x.name === name) ?? mod.funcs.find((x) => x.exportNames.includes(name));
  if (!f) {
    const known = mod.funcs.flatMap((x) => [x.name, ...x.exportNames]);
    throw new RunError(`unknown function "${name}" (known: ${[...new Set(known)].join(', ') || 'none'})`);
  }
  return f;
}

function effectiveAddress(mem: DataView, addr: number, offset: number): number {
  const ea = (addr >>> 0) + offset;
  if (ea + 4 > mem.byteLength) throw new Trap(TRAP_OOB);
  return ea;
}

function execInst(i: Inst, vals: Int32Array, mem: DataView): void {
  switch (i.op) {
    case 'iconst': vals[i.dst] = i.value; return;
    case 'iadd': vals[i.dst] = (vals[i.a] as number) + (vals[i.b] as number); return;
    case 'load': vals[i.dst] = mem.getInt32(effectiveAddress(mem, vals[i.addr] as number, i.offset), true); return;
    case 'store': mem.setInt32(effectiveAddress(mem, vals[i.addr] as number, i.offset), vals[i.value] as number, true); return;
  }
}

/** Move to a target: all args are read before any param is written. */
function enter(f: Func, t: BlockTarget, vals: Int32Array, scratch: Int32Array): Block {
  const b = f.blocks[t.block] as Block;
  const n = t.args.length;
  for (let k = 0; k < n; k++) scratch[k] = vals[t.args[k] as number] as number;
  for (let k = 0; k < n; k++) vals[b.params[k] as number] = scratch[k] as number;
  return b;
}

function maxValueId(f: Func): number {
  let max = 0;
  for (const b of f.blocks) {
    for (const p of b.params) max = Math.max(max, p);
    for (const i of b.insts) if (i.op !== 'store') max = Math.max(max, i.dst);
  }
  return max;
}

function maxParams(f: Func): number {
  return f.blocks.reduce((m, b) => Math.max(m, b.params.length), 0);
}

export function interpret(mod: Module, funcName: string, args: number[], opts: InterpOptions = {}): InterpResult {
  const f = findFunc(mod, funcName);
  if (args.length !== f.numParams) {
    throw new RunError(`function "${funcName}" takes ${f.numParams} arguments, got ${args.length}`);
  }
  const memory = opts.memory ?? initialMemory(mod);
  const mem = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const vals = new Int32Array(maxValueId(f) + 1); // Int32Array stores wrap to i32
  const scratch = new Int32Array(maxParams(f));
  let block = f.blocks[0] as Block;
  block.params.forEach((p, k) => { vals[p] = args[k] as number; });
  let steps = 1;
  try {
    for (;; steps++) {
      if (steps > maxSteps) {
        if (!opts.stopAtLimit) throw new RunError(`step limit exceeded (${maxSteps} steps)`);
        const truncated = { block: f.blocks.indexOf(block), args: block.params.map((p) => vals[p] as number) };
        return { results: [], steps: maxSteps, trap: null, memory, truncated };
      }
      for (const i of block.insts) execInst(i, vals, mem);
      const t = block.term;
      if (t.op === 'return') return { results: t.values.map((v) => vals[v] as number), steps, trap: null, memory };
      if (t.op === 'jump') block = enter(f, t.target, vals, scratch);
      else block = enter(f, vals[t.cond] !== 0 ? t.then : t.else, vals, scratch);
    }
  } catch (e) {
    if (e instanceof Trap) return { results: [], steps, trap: e.message, memory };
    throw e;
  }
}
