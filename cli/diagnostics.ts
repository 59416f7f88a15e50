// cli/diagnostics.ts — how the CLI reports an error: located, escaped text on stderr or one JSON object.
//
// Text: `FILE:LINE:COL: error: MESSAGE` (WAT, followed by the source line and a caret),
// `FILE:0xOFFSET: error: MESSAGE` (binaries), `FILE: error: ...` or `error: ...`, then an optional
// `hint: ...` line. JSON (`--json`): {"error": {kind, message, file?, line?, column?, offset?,
// instruction?, func?, hint?}} on stdout. Text from the module (export and function names, WAT
// source) is escaped so no newline, escape sequence or bidirectional control reaches the terminal.

import { CompileError, RunError, type CompileErrorInfo } from '../format/errors.js';
import { HintedRunError, UsageError } from './args.js';

export type ErrorKind = 'usage' | 'compile' | 'run' | 'internal';

export interface ErrorReport {
  kind: ErrorKind;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  offset?: number;
  instruction?: string;
  func?: string;
  /** The source line (WAT) the line/column point into. */
  source?: string;
  hint?: string;
}

// C0 and C1 controls, DEL, and Unicode format characters that reorder or hide text.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `s` with every control or invisible formatting character written as an escape (`\n`, `\x1b`, `\u{202e}`). */
export function escapeText(s: string, keepTabs = false): string {
  return s.replace(UNSAFE, (c) => {
    const k = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\t') return keepTabs ? c : '\\t';
    if (c === '\r') return '\\r';
    return k <= 0xff ? `\\x${k.toString(16).padStart(2, '0')}` : `\\u{${k.toString(16)}}`;
  });
}

/** JSON text that is also safe on a terminal (JSON.stringify leaves C1 controls and bidi marks raw). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The where-suffix CompileError appends to its message (mirrors format/errors.ts). */
function whereSuffix(info: CompileErrorInfo, withOffset: boolean): string {
  const where: string[] = [];
  if (info.instruction !== undefined) where.push(`instruction ${info.instruction}`);
  if (info.func !== undefined) where.push(`function ${info.func}`);
  if (withOffset && info.offset !== undefined) where.push(`byte offset 0x${info.offset.toString(16)}`);
  return where.length ? ` (${where.join(', ')})` : '';
}

/** A CompileError's message without the byte offset (which the location prefix carries instead). */
export function messageWithoutOffset(e: CompileError): string {
  const full = whereSuffix(e.info, true);
  if (e.info.offset === undefined || !full || !e.message.endsWith(full)) return e.message;
  return e.message.slice(0, -full.length) + whereSuffix(e.info, false);
}

/** The report for anything main() caught. */
export function reportOf(e: unknown): ErrorReport {
  if (e instanceof UsageError) return { kind: 'usage', message: e.message, hint: e.hint ?? "see 'wasmformer --help'" };
  if (e instanceof CompileError) {
    const { instruction, func, offset } = e.info;
    return { kind: 'compile', message: e.message, instruction, func, offset };
  }
  if (e instanceof HintedRunError) return { kind: 'run', message: e.message, hint: e.hint };
  if (e instanceof RunError) return { kind: 'run', message: e.message };
  return { kind: 'internal', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

/** A caret under `column` of `source`, keeping tabs so it lines up. */
function caretLine(source: string, column: number): string {
  return `${source.slice(0, column - 1).replace(/[^\t]/g, ' ')}^`;
}

/** The window of a long source line around `column` (and the column within it). */
function window(source: string, column: number, width = 120): { text: string; column: number } {
  if (source.length <= width) return { text: source, column };
  const start = Math.max(0, Math.min(column - 1 - width / 2, source.length - width));
  const text = `${start > 0 ? '...' : ''}${source.slice(start, start + width)}${start + width < source.length ? '...' : ''}`;
  return { text, column: column - start + (start > 0 ? 3 : 0) };
}

/** The stderr text of a report: one located line, the source line and caret when known, a hint line. */
export function formatText(r: ErrorReport, message = r.message): string {
  const file = r.file === undefined ? '' : escapeText(r.file);
  const where =
    r.file === undefined ? '' : r.line !== undefined ? `${file}:${r.line}:${r.column ?? 1}: ` : r.offset !== undefined ? `${file}:0x${r.offset.toString(16)}: ` : `${file}: `;
  const out = [`${where}${r.kind === 'internal' ? '' : 'error: '}${escapeText(message)}`];
  if (r.source !== undefined && r.column !== undefined) {
    const column = escapeText(r.source.slice(0, r.column - 1), true).length + 1; // in the escaped line
    const w = window(escapeText(r.source, true), column);
    out.push(w.text, caretLine(w.text, w.column));
  }
  if (r.hint) out.push(`hint: ${escapeText(r.hint)}`);
  return out.join('\n') + '\n';
}

/** The --json form of a report. */
export function formatJson(r: ErrorReport): string {
  const error: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) error[k] = v;
  return jsonText({ error }) + '\n';
}
