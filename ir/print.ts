// ir/print.ts — print IR modules and functions in the text form of ir/ir.ts.
//
// The output is canonical (ir/parse.ts reads it back, and printing the parsed
// module gives the same text), so tests compare IR by its printed form.

import { TrapCode } from '../format/errors.js';
import type { Block, BlockTarget, Func, Global, Inst, Module, Terminator } from './ir.js';

const PLAIN_NAME = /^[A-Za-z0-9_.\-]+$/;

/** Quote a string: printable ASCII as is (except " and \), other bytes as \hh. */
export function quoteString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    const printable = b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c;
    s += printable ? String.fromCharCode(b) : `\\${b.toString(16).padStart(2, '0')}`;
  }
  return s + '"';
}

/** Quote raw bytes with every byte escaped (used for data segments). */
export function quoteBytes(bytes: Uint8Array): string {
  return `"${Array.from(bytes, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}"`;
}

export function printFuncName(name: string): string {
  return PLAIN_NAME.test(name) ? `$${name}` : `$${quoteString(new TextEncoder().encode(name))}`;
}

const v = (id: number): string => `v${id}`;

function printTarget(t: BlockTarget): string {
  return t.args.length === 0 ? `block${t.block}` : `block${t.block}(${t.args.map(v).join(', ')})`;
}

/** `load`, `load8_s`, `load16_u`, ... (4-byte accesses have no suffix). */
export function loadName(bytes: 1 | 2 | 4, signed: boolean): string {
  return bytes === 4 ? 'load' : `load${bytes * 8}_${signed ? 's' : 'u'}`;
}

export function storeName(bytes: 1 | 2 | 4): string {
  return bytes === 4 ? 'store' : `store${bytes * 8}`;
}

export function printInst(i: Inst): string {
  const g = i.op === 'load' || i.op === 'store' || i.op === 'output' ? i.guard : undefined;
  return g === undefined ? printBare(i) : `${printBare(i)} if ${v(g)}`;
}

function printBare(i: Inst): string {
  switch (i.op) {
    case 'iconst': return `${v(i.dst)} = iconst ${i.value}`;
    case 'unary': return `${v(i.dst)} = ${i.code} ${v(i.a)}`;
    case 'binary': return `${v(i.dst)} = ${i.code} ${v(i.a)}, ${v(i.b)}`;
    case 'select': return `${v(i.dst)} = select ${v(i.cond)}, ${v(i.a)}, ${v(i.b)}`;
    case 'load': return `${v(i.dst)} = ${loadName(i.bytes, i.signed)} ${v(i.addr)} offset=${i.offset}`;
    case 'store': return `${storeName(i.bytes)} ${v(i.addr)}, ${v(i.value)} offset=${i.offset}`;
    case 'global_get': return `${v(i.dst)} = global_get ${i.index}`;
    case 'global_set': return `global_set ${i.index}, ${v(i.value)}`;
    case 'memory_size': return `${v(i.dst)} = memory_size`;
    case 'memory_grow': return `${v(i.dst)} = memory_grow ${v(i.delta)}`;
    case 'output': return `output ${v(i.value)}`;
    case 'poison': return `${v(i.dst)} = poison ${JSON.stringify(i.what)} ${i.offset}`;
  }
}

export function printTerm(t: Terminator): string {
  switch (t.op) {
    case 'jump': return `jump ${printTarget(t.target)}`;
    case 'br_if': return `br_if ${v(t.cond)}, ${printTarget(t.then)}, ${printTarget(t.else)}`;
    case 'br_table': return `br_table ${v(t.index)}, [${t.targets.map(printTarget).join(', ')}], ${printTarget(t.default)}`;
    case 'return': return t.values.length === 0 ? 'return' : `return ${t.values.map(v).join(', ')}`;
    case 'trap': return `trap ${TrapCode[t.code]}`;
    case 'call': return `call ${printFuncName(t.func)}(${t.args.map(v).join(', ')}), ${printTarget(t.cont)}`;
  }
}

function printBlock(b: Block, id: number): string[] {
  const head = b.params.length === 0 ? `block${id}:` : `block${id}(${b.params.map(v).join(', ')}):`;
  return [head, ...b.insts.map((i) => `  ${printInst(i)}`), `  ${printTerm(b.term)}`];
}

export function printFunc(f: Func): string {
  const exports = f.exportNames.map((n) => ` (export ${quoteString(new TextEncoder().encode(n))})`).join('');
  const head = `func ${printFuncName(f.name)}${exports} params=${f.numParams} results=${f.numResults}`;
  return [head, ...f.blocks.flatMap(printBlock)].join('\n') + '\n';
}

function printGlobal(g: Global): string {
  const name = g.name !== undefined ? ` name ${quoteString(new TextEncoder().encode(g.name))}` : '';
  return `global mut=${g.mutable ? 1 : 0} init=${g.init}${name}`;
}

export function printModule(m: Module): string {
  const parts: string[] = [];
  const lines: string[] = [];
  if (m.memory) {
    lines.push(`memory pages=${m.memory.pages} max=${m.memory.maxPages}`);
    for (const d of m.memory.data) lines.push(`data ${d.offset} ${quoteBytes(d.bytes)}`);
  }
  lines.push(...m.globals.map(printGlobal));
  if (lines.length > 0) parts.push(lines.join('\n') + '\n');
  for (const f of m.funcs) parts.push(printFunc(f));
  return parts.join('\n');
}
