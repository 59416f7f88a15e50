// ir/print.ts — print IR modules and functions in the text form of ir/ir.ts.
//
// The output is canonical (ir/parse.ts reads it back, and printing the parsed
// module gives the same text), so tests compare IR by its printed form.

import type { Block, BlockTarget, Func, Inst, Module, Terminator } from './ir.js';

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

export function printInst(i: Inst): string {
  switch (i.op) {
    case 'iconst': return `${v(i.dst)} = iconst ${i.value}`;
    case 'iadd': return `${v(i.dst)} = iadd ${v(i.a)}, ${v(i.b)}`;
    case 'load': return `${v(i.dst)} = load ${v(i.addr)} offset=${i.offset}`;
    case 'store': return `store ${v(i.addr)}, ${v(i.value)} offset=${i.offset}`;
  }
}

export function printTerm(t: Terminator): string {
  switch (t.op) {
    case 'jump': return `jump ${printTarget(t.target)}`;
    case 'br_if': return `br_if ${v(t.cond)}, ${printTarget(t.then)}, ${printTarget(t.else)}`;
    case 'return': return t.values.length === 0 ? 'return' : `return ${t.values.map(v).join(', ')}`;
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

export function printModule(m: Module): string {
  const parts: string[] = [];
  if (m.memory) {
    const lines = [`memory pages=${m.memory.pages}`];
    for (const d of m.memory.data) lines.push(`data ${d.offset} ${quoteBytes(d.bytes)}`);
    parts.push(lines.join('\n') + '\n');
  }
  for (const f of m.funcs) parts.push(printFunc(f));
  return parts.join('\n');
}
