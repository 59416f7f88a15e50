// frontend/wat_source.ts — positions in WAT text: tokens, the nesting-depth bound, and a byte offset of
// the assembled binary mapped back to the instruction's line and column.
//
// Pure text/bytes work (no wabt): wat.ts feeds it wabt's binary-writer log. The mapping goes
// offset → (function body, instruction ordinal) on the binary side, using the log's instruction
// lines relative to each body's start, and → the same ordinal in the function's instructions
// in the text, flattened into binary order (folded operands before their operator; folded
// block/loop/if get their `end` at the closing parenthesis; every body ends with an implicit
// `end`). When the two sides disagree (syntax this walker does not model), it falls back to
// the n-th textual occurrence of the same instruction name in that function.

export interface Token {
  kind: '(' | ')' | 'atom' | 'string';
  text: string;
  start: number; // index into the text
}

/** Tokens of WAT text: parentheses, atoms and strings; whitespace and both comment forms skipped. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === ';' && text[i + 1] === ';') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '(' && text[i + 1] === ';') {
      let depth = 0;
      while (i < n) {
        if (text[i] === '(' && text[i + 1] === ';') (depth++, (i += 2));
        else if (text[i] === ';' && text[i + 1] === ')') {
          i += 2;
          if (--depth === 0) break;
        } else i++;
      }
    } else if (c === '(' || c === ')') out.push({ kind: c, text: c, start: i++ });
    else if (c === '"') {
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: text.slice(start, ++i), start });
    } else {
      const start = i;
      while (i < n && !/[\s()";]/.test(text[i])) i++;
      if (i === start) i++; // a stray ';'
      out.push({ kind: 'atom', text: text.slice(start, i), start });
    }
  }
  return out;
}

const BLOCK_OPENERS = new Set(['block', 'loop', 'if', 'try']);

/**
 * The deepest nesting (parentheses plus unfolded block/loop/if ... end), and where it is first
 * deeper than `limit` (where it is deepest when it never is).
 */
export function nestingDepth(tokens: readonly Token[], limit = Infinity): { depth: number; at: number } {
  let depth = 0;
  let max = 0;
  let at = 0;
  tokens.forEach((t, k) => {
    const opener = t.kind === '(' || (t.kind === 'atom' && BLOCK_OPENERS.has(t.text) && tokens[k - 1]?.kind !== '(');
    if (opener && ++depth > max) {
      if (max <= limit) at = t.start;
      max = depth;
    }
    if (t.kind === ')' || (t.kind === 'atom' && t.text === 'end')) depth = Math.max(0, depth - 1);
  });
  return { depth: max, at };
}

/** 1-based line and column of a text index, and that line's text. */
export function lineColumn(text: string, index: number): { line: number; column: number; lineText: string } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const nl = text.indexOf('\n', lineStart);
  const lineText = text.slice(lineStart, nl < 0 ? text.length : nl).replace(/\r$/, '');
  return { line, column: index - lineStart + 1, lineText };
}

// ---- binary side -------------------------------------------------------------------------------

function readU32(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (p >= b.length || shift > 28) throw new Error('bad LEB128');
    const byte = b[p++];
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return [v, p];
  }
}

/** [start, end) of each function body's contents (after its size) in a well-formed binary. */
export function codeBodies(wasm: Uint8Array): Array<[number, number]> {
  const bodies: Array<[number, number]> = [];
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p++];
    const [size, q] = readU32(wasm, p);
    if (id === 10) {
      let [count, r] = readU32(wasm, q);
      while (count-- > 0) {
        const [len, s] = readU32(wasm, r);
        bodies.push([s, s + len]);
        r = s + len;
      }
    }
    p = q + size;
  }
  return bodies;
}

const NOT_INSTRUCTIONS = new Set(['i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref', 'func', 'extern', 'void', 'nan', 'inf']);
const INSTRUCTION_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

function isInstructionName(s: string): boolean {
  return INSTRUCTION_NAME.test(s) && !NOT_INSTRUCTIONS.has(s);
}

/** Per function body, its instructions from wabt's binary-writer log: offset relative to the body start, and name. */
export function logInstructions(log: string): Array<Array<{ rel: number; name: string }>> {
  const bodies: Array<Array<{ rel: number; name: string }>> = [];
  let current: Array<{ rel: number; name: string }> | null = null;
  let start = -1;
  for (const line of log.split('\n')) {
    if (/^; function body \d+/.test(line)) {
      current = [];
      bodies.push(current);
      start = -1;
      continue;
    }
    if (line.startsWith('; ')) {
      current = null; // another section's heading
      continue;
    }
    const m = /^([0-9a-f]+): .*; (.*)$/.exec(line);
    if (!m || !current) continue;
    const off = parseInt(m[1], 16);
    const what = m[2].trim();
    if (what === 'local decl count') start = off;
    else if (start >= 0 && !what.startsWith('FIXUP') && isInstructionName(what)) current.push({ rel: off - start, name: what });
  }
  return bodies;
}

// ---- text side ---------------------------------------------------------------------------------

type Node = { list: Node[]; open: Token; close: number } | Token;

function isList(n: Node): n is { list: Node[]; open: Token; close: number } {
  return 'list' in n;
}

function parseTree(tokens: readonly Token[]): Node[] {
  const stack: Array<{ list: Node[]; open: Token; close: number }> = [];
  const top: Node[] = [];
  for (const t of tokens) {
    if (t.kind === '(') stack.push({ list: [], open: t, close: -1 });
    else if (t.kind === ')') {
      const done = stack.pop();
      if (!done) continue;
      done.close = t.start;
      (stack.at(-1)?.list ?? top).push(done);
    } else (stack.at(-1)?.list ?? top).push(t);
  }
  return top;
}

const head = (n: Node): string | undefined => (isList(n) && n.list[0] && !isList(n.list[0]) ? n.list[0].text : undefined);
const HEADER_FIELDS = new Set(['export', 'import', 'type', 'param', 'result', 'local']);
const TYPE_LISTS = new Set(['type', 'param', 'result']);

/** Defined (not imported) functions of the module, in order. */
function definedFuncs(tree: Node[]): Array<{ list: Node[]; open: Token; close: number }> {
  const module = tree.find((n) => head(n) === 'module');
  const fields = module && isList(module) ? module.list.slice(1) : tree;
  return fields.filter(isList).filter((f) => head(f) === 'func' && !f.list.some((c) => head(c) === 'import'));
}

/** A function's instructions in binary order, each with its text index. */
function funcInstructions(fn: { list: Node[]; close: number }): Array<{ name: string; at: number }> {
  const out: Array<{ name: string; at: number }> = [];
  const emit = (name: string, at: number) => out.push({ name, at });
  const seq = (items: Node[]) => {
    for (const it of items) {
      if (isList(it)) folded(it);
      else if (it.kind === 'atom' && isInstructionName(it.text)) emit(it.text, it.start);
    }
  };
  const folded = (n: { list: Node[]; open: Token; close: number }) => {
    const h = n.list[0];
    if (!h || isList(h)) return;
    const rest = n.list.slice(1).filter((c) => !(isList(c) && TYPE_LISTS.has(head(c) ?? '')));
    if (h.text === 'block' || h.text === 'loop') {
      emit(h.text, h.start);
      seq(rest);
      emit('end', n.close);
    } else if (h.text === 'if') {
      const thenList = rest.find((c) => head(c) === 'then');
      const elseList = rest.find((c) => head(c) === 'else');
      seq(rest.filter((c) => isList(c) && c !== thenList && c !== elseList));
      emit('if', h.start);
      if (thenList && isList(thenList)) seq(thenList.list.slice(1));
      if (elseList && isList(elseList)) {
        emit('else', elseList.open.start);
        seq(elseList.list.slice(1));
      }
      emit('end', n.close);
    } else if (isInstructionName(h.text)) {
      seq(rest.filter(isList));
      emit(h.text, h.start);
    }
  };
  seq(fn.list.slice(1).filter((c) => !(isList(c) && HEADER_FIELDS.has(head(c) ?? ''))));
  emit('end', fn.close);
  return out;
}

/**
 * The text index of the instruction at byte `offset` of the binary assembled from `text`
 * (`wasm`, with wabt's binary-writer `log`), or null when the offset is not in a function body
 * or the function cannot be found in the text.
 */
export function locateInstruction(text: string, wasm: Uint8Array, log: string, offset: number): number | null {
  let bodies: Array<[number, number]>;
  try {
    bodies = codeBodies(wasm);
  } catch {
    return null;
  }
  const f = bodies.findIndex(([s, e]) => offset >= s && offset < e);
  if (f < 0) return null;
  const logged = logInstructions(log)[f];
  const fn = definedFuncs(parseTree(tokenize(text)))[f];
  if (!logged || !fn) return null;
  const rel = offset - bodies[f][0];
  let k = -1;
  logged.forEach((x, i) => {
    if (x.rel <= rel) k = i;
  });
  if (k < 0) return fn.open.start;
  const fromText = funcInstructions(fn);
  const agree = fromText.length === logged.length && fromText.every((x, i) => x.name === logged[i].name);
  if (agree) return fromText[k].at;
  const name = logged[k].name;
  const nth = logged.slice(0, k).filter((x) => x.name === name).length;
  return fromText.filter((x) => x.name === name)[nth]?.at ?? fn.open.start;
}
