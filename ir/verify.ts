// ir/verify.ts — check that an IR module is well formed.
//
// Checks: at least one block per function, block 0 params = numParams, every
// value defined exactly once, every use defined and dominated by its
// definition (dominators computed with Cooper–Harvey–Kennedy), branch targets
// exist with matching argument counts (a call's continuation: the callee's
// results, then the carried args), calls name existing functions with the
// right arity, return arity = numResults, constants and offsets in range,
// memory instructions only with a memory, globals exist (and are mutable
// where set), data segments in bounds, unique function and export names. Throws one Error listing every
// problem found.

import {
  PAGE_SIZE, instDst, instUses, termTargets, termUses,
  type Block, type BlockId, type Func, type Module, type ValueId,
} from './ir.js';
import { reversePostorder } from './simplify.js';
import { TrapCode } from '../format/errors.js';

/** Immediate dominators of reachable blocks (idom[0] = 0; unreachable: undefined). */
export function dominators(blocks: Block[]): Map<BlockId, BlockId> {
  const rpo = reversePostorder(blocks);
  const order = new Map(rpo.map((b, i) => [b, i]));
  const preds = new Map<BlockId, BlockId[]>(rpo.map((b) => [b, []]));
  for (const b of rpo) for (const t of termTargets((blocks[b] as Block).term)) preds.get(t.block)?.push(b);
  const idom = new Map<BlockId, BlockId>([[0, 0]]);
  const intersect = (a0: BlockId, b0: BlockId): BlockId => {
    let a = a0;
    let b = b0;
    while (a !== b) {
      while ((order.get(a) as number) > (order.get(b) as number)) a = idom.get(a) as BlockId;
      while ((order.get(b) as number) > (order.get(a) as number)) b = idom.get(b) as BlockId;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of rpo.slice(1)) {
      const done = (preds.get(b) ?? []).filter((p) => idom.has(p));
      const nd = done.slice(1).reduce(intersect, done[0] as BlockId);
      if (idom.get(b) !== nd) { idom.set(b, nd); changed = true; }
    }
  }
  return idom;
}

function dominates(idom: Map<BlockId, BlockId>, a: BlockId, b0: BlockId): boolean {
  for (let b = b0; ; b = idom.get(b) as BlockId) {
    if (b === a) return true;
    if (b === 0 || !idom.has(b)) return false;
  }
}

interface Def { block: BlockId; index: number } // index -1 = block param

function collectDefs(f: Func, problems: string[], where: (b: BlockId) => string): Map<ValueId, Def> {
  const defs = new Map<ValueId, Def>();
  const define = (v: ValueId, d: Def): void => {
    if (!Number.isInteger(v) || v < 0) problems.push(`${where(d.block)}: bad value id ${v}`);
    if (defs.has(v)) problems.push(`${where(d.block)}: v${v} defined more than once`);
    else defs.set(v, d);
  };
  f.blocks.forEach((b, id) => {
    b.params.forEach((v) => define(v, { block: id, index: -1 }));
    b.insts.forEach((i, k) => { const d = instDst(i); if (d !== null) define(d, { block: id, index: k }); });
  });
  return defs;
}

function checkUses(f: Func, defs: Map<ValueId, Def>, problems: string[], where: (b: BlockId) => string): void {
  const idom = dominators(f.blocks);
  const check = (v: ValueId, block: BlockId, index: number): void => {
    const d = defs.get(v);
    if (!d) return void problems.push(`${where(block)}: use of undefined value v${v}`);
    if (!idom.has(block)) return; // unreachable block: no dominance requirement
    const ok = d.block === block ? d.index < index : dominates(idom, d.block, block);
    if (!ok) problems.push(`${where(block)}: use of v${v} not dominated by its definition in block${d.block}`);
  };
  f.blocks.forEach((b, id) => {
    b.insts.forEach((i, k) => instUses(i).forEach((v) => check(v, id, k)));
    termUses(b.term).forEach((v) => check(v, id, b.insts.length));
  });
}

const NEEDS_MEMORY = new Set(['load', 'store', 'memory_size', 'memory_grow']);

function checkInsts(m: Module, b: Block, problems: string[], at: string): void {
  for (const i of b.insts) {
    if (i.op === 'iconst' && !(Number.isInteger(i.value) && (i.value | 0) === i.value)) {
      problems.push(`${at}: iconst ${i.value} is not a signed i32`);
    }
    if (NEEDS_MEMORY.has(i.op) && !m.memory) problems.push(`${at}: ${i.op} but the module has no memory`);
    if ((i.op === 'load' || i.op === 'store') && (!Number.isInteger(i.offset) || i.offset < 0 || i.offset > 0xffffffff)) {
      problems.push(`${at}: bad offset ${i.offset}`);
    }
    if (i.op === 'global_get' || i.op === 'global_set') {
      const g = m.globals[i.index];
      if (!g) problems.push(`${at}: ${i.op} of missing global ${i.index}`);
      else if (i.op === 'global_set' && !g.mutable) problems.push(`${at}: global_set of immutable global ${i.index}`);
    }
  }
}

function checkCall(m: Module, f: Func, b: Block, problems: string[], at: string): void {
  if (b.term.op !== 'call') return;
  const t = b.term;
  const callee = m.funcs.find((x) => x.name === t.func);
  if (!callee) return void problems.push(`${at}: call to missing function $${t.func}`);
  if (t.args.length !== callee.numParams) problems.push(`${at}: call to $${t.func} passes ${t.args.length} args, it takes ${callee.numParams}`);
  const cont = f.blocks[t.cont.block];
  if (cont && cont.params.length !== callee.numResults + t.cont.args.length) {
    problems.push(`${at}: call continuation block${t.cont.block} takes ${cont.params.length} params, ` +
      `expected ${callee.numResults} results + ${t.cont.args.length} carried values`);
  }
}

function checkBlock(m: Module, f: Func, b: Block, id: BlockId, problems: string[], at: string): void {
  checkInsts(m, b, problems, at);
  for (const t of termTargets(b.term)) {
    const target = f.blocks[t.block];
    if (!target) problems.push(`${at}: branch to missing block${t.block}`);
    else if (b.term.op !== 'call' && target.params.length !== t.args.length) {
      problems.push(`${at}: branch to block${t.block} passes ${t.args.length} args, it takes ${target.params.length}`);
    }
  }
  checkCall(m, f, b, problems, at);
  if (b.term.op === 'trap' && TrapCode[b.term.code] === undefined) problems.push(`${at}: unknown trap code ${b.term.code}`);
  if (b.term.op === 'return' && b.term.values.length !== f.numResults) {
    problems.push(`${at}: return of ${b.term.values.length} values, function has ${f.numResults} results`);
  }
  if (id === 0 && b.params.length !== f.numParams) {
    problems.push(`${at}: entry block has ${b.params.length} params, function has ${f.numParams}`);
  }
}

function verifyFunc(m: Module, f: Func, problems: string[]): void {
  const where = (b: BlockId): string => `func $${f.name} block${b}`;
  if (f.blocks.length === 0) return void problems.push(`func $${f.name}: no blocks`);
  f.blocks.forEach((b, id) => checkBlock(m, f, b, id, problems, where(id)));
  const defs = collectDefs(f, problems, where);
  const targetsOk = f.blocks.every((b) => termTargets(b.term).every((t) => f.blocks[t.block] !== undefined));
  if (targetsOk) checkUses(f, defs, problems, where); // dominators need valid targets
}

function verifyNames(m: Module, problems: string[]): void {
  const names = new Set<string>();
  const exports = new Set<string>();
  for (const f of m.funcs) {
    if (names.has(f.name)) problems.push(`duplicate function name $${f.name}`);
    names.add(f.name);
    for (const e of f.exportNames) {
      if (exports.has(e)) problems.push(`duplicate export name "${e}"`);
      exports.add(e);
    }
  }
}

function verifyMemory(m: Module, problems: string[]): void {
  if (!m.memory) return;
  const { pages, maxPages, data } = m.memory;
  if (!Number.isInteger(pages) || pages < 0 || pages > 65536) problems.push(`memory: bad page count ${pages}`);
  if (!Number.isInteger(maxPages) || maxPages < pages || maxPages > 65536) problems.push(`memory: bad maximum ${maxPages} pages`);
  for (const d of data) {
    if (d.offset < 0 || d.offset + d.bytes.length > pages * PAGE_SIZE) {
      problems.push(`data segment at ${d.offset} (${d.bytes.length} bytes) is outside the memory`);
    }
  }
}

/** Throws an Error listing every problem if the module is not well formed. */
export function verifyModule(m: Module): void {
  const problems: string[] = [];
  verifyNames(m, problems);
  verifyMemory(m, problems);
  for (const g of m.globals) {
    if (!Number.isInteger(g.init) || (g.init | 0) !== g.init) problems.push(`global init ${g.init} is not a signed i32`);
  }
  for (const f of m.funcs) verifyFunc(m, f, problems);
  if (problems.length > 0) throw new Error(`IR verification failed:\n  ${problems.join('\n  ')}`);
}
