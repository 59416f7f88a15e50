// cli/trace_html.ts — `wasmformer run --trace-html FILE`: one self-contained HTML page of a run.
//
// Per step: the block (expert) it ran, its live values (the block's arguments, the globals and
// call depth entering it), the next pc, trap and output, the memory writes (address, byte) and
// every lookup head's read: the address its query asks for and the attention weights over
// [pending rows | cache rows], which are an exact one-hot for a one-stage head and for stage 2
// (weight 1 on the row that holds the newest write, exactly 0 elsewhere). The step objects are exactly the lines of
// `--trace-json` (traceJsonOf, DESIGN.md §15), kept as they are in a <script type="application/json">.
// Long runs stay usable: at most `limit` steps are kept (the first half, the last quarter, and
// an evenly strided sample of the middle whose stride doubles as the run grows), the page
// shows a window of them with paging and step-through controls, and every block's visit count
// covers all steps. Like the inspect page (cli/inspect_html.ts): no network, works from file://,
// and everything taken from the module reaches the page as escaped text.

import type { TraceEvent } from '../runtime/core.js';
import type { ModelLayout } from '../format/layout.js';
import type { InspectInfo } from '../format/inspect.js';
import { escapeHtml, scriptJson } from './inspect_html.js';
import { TRACE_VIEWER_SCRIPT } from './trace_viewer.js';

export const DEFAULT_TRACE_HTML_STEPS = 10_000;

/** One step as `--trace-json` prints it (and the page stores it). */
export type TraceStep = Record<string, unknown> & { step: number; pc: number; block: string; args: number[] };

/** The `--trace-json` object of a trace event: step, pc, block, args, then the detail fields. */
export function traceJsonOf(ev: TraceEvent): TraceStep {
  return { step: ev.step, pc: ev.pc, block: ev.block, args: ev.args, ...(ev.detail ?? {}) };
}

/** Which steps a page keeps of a run too long to keep them all. */
export interface TraceSample {
  /** Steps seen in all. */
  total: number;
  /** The kept steps, in step order. */
  steps: TraceStep[];
  /** Steps kept from the start, from the end, and the stride of the middle sample (0: all kept). */
  head: number;
  tail: number;
  stride: number;
  /** How often each pc ran, over all steps. */
  visits: number[];
}

/**
 * Keeps at most `limit` steps of a run of unknown length: the first limit/2 steps, the last
 * limit/4 (a ring) and, of the steps in between, every stride-th, the stride doubling whenever
 * the middle sample passes limit/4. Deterministic; a run of at most `limit` steps is kept whole.
 */
export class TraceSampler {
  private readonly headMax: number;
  private readonly tailMax: number;
  private readonly midMax: number;
  private readonly headSteps: TraceStep[] = [];
  private ring: TraceStep[] = [];
  private ringAt = 0;
  private mid: TraceStep[] = [];
  private stride = 1;
  private total = 0;
  private readonly visits: number[];

  constructor(
    readonly limit: number,
    blocks: number,
  ) {
    if (!Number.isInteger(limit) || limit < 4) throw new Error('TraceSampler: limit must be an integer ≥ 4');
    this.headMax = Math.floor(limit / 2);
    this.tailMax = Math.floor(limit / 4);
    this.midMax = limit - this.headMax - this.tailMax;
    this.visits = new Array<number>(blocks).fill(0);
  }

  add(s: TraceStep): void {
    this.total++;
    if (s.pc >= 0 && s.pc < this.visits.length) this.visits[s.pc]++;
    if (this.headSteps.length < this.headMax) {
      this.headSteps.push(s);
      return;
    }
    if (this.ring.length < this.tailMax) {
      this.ring.push(s);
      return;
    }
    const out = this.ring[this.ringAt];
    this.ring[this.ringAt] = s;
    this.ringAt = (this.ringAt + 1) % this.tailMax;
    const k = out.step - this.headMax - 1; // index within the middle
    if (k % this.stride !== 0) return;
    this.mid.push(out);
    if (this.mid.length > this.midMax) {
      this.stride *= 2;
      this.mid = this.mid.filter((x) => (x.step - this.headMax - 1) % this.stride === 0);
    }
  }

  result(): TraceSample {
    const tail = [...this.ring.slice(this.ringAt), ...this.ring.slice(0, this.ringAt)];
    const steps = [...this.headSteps, ...this.mid, ...tail];
    const all = steps.length === this.total;
    return { total: this.total, steps, head: all ? steps.length : this.headSteps.length, tail: all ? 0 : tail.length, stride: all ? 0 : this.stride, visits: this.visits };
  }
}

export interface TraceHtmlInput {
  /** The model file's name (shown as the title). */
  title: string;
  invoke: string;
  args: number[];
  /** The arguments as given (`@input` for the input's address), for the title. */
  argText?: string[];
  /** The --input bytes as text, if any. */
  input?: string;
  layout: ModelLayout;
  /** The model's inspect metadata, when it has it: names the heads and shows the IR. */
  inspect: InspectInfo | null;
  sample: TraceSample;
  /** How the run ended. */
  outcome: { results: number[]; trap: string | null; steps: number; output: string; error?: string };
}

/** Per visited block: its name, IR text and its lookup heads' roles and IR lines ("layer.head" keys). */
export interface TraceBlockInfo {
  name: string;
  ir: string[] | null;
  heads: Record<string, [role: string, line: number]>;
}

/** What the page embeds (the test reads it back). */
export interface TracePageData {
  format: 'wasmformer-trace/1';
  title: string;
  invoke: string;
  args: number[];
  input: string | null;
  outcome: TraceHtmlInput['outcome'];
  halt: number;
  memBytes: number;
  frames: { base: number; bytes: number } | null;
  total: number;
  head: number;
  tail: number;
  stride: number;
  visits: number[];
  blocks: Record<string, TraceBlockInfo>;
  steps: TraceStep[];
}

export function traceData(r: TraceHtmlInput): TracePageData {
  const L = r.layout;
  const blocks: Record<string, TraceBlockInfo> = {};
  r.sample.visits.forEach((n, pc) => {
    if (n === 0) return;
    const e = L.experts[pc];
    const ins = r.inspect?.experts[pc];
    const heads: TraceBlockInfo['heads'] = {};
    if (ins) {
      // head h of layer l is the h-th attention node at point 2l (backend/assemble_weights.ts)
      const perLayer = new Map<number, number>();
      for (const [point, kind, role, , line] of ins.nodes) {
        if (kind !== 'attn') continue;
        const l = point >> 1;
        const h = perLayer.get(l) ?? 0;
        perLayer.set(l, h + 1);
        heads[`${l}.${h}`] = [role, line];
      }
    }
    blocks[pc] = { name: `${e.func}:block${e.block}`, ir: ins ? ins.ir : null, heads };
  });
  return {
    format: 'wasmformer-trace/1',
    title: r.title,
    invoke: r.invoke,
    args: r.args,
    input: r.input ?? null,
    outcome: r.outcome,
    halt: L.experts.length,
    memBytes: L.memory?.memBytes ?? 0,
    frames: L.calls ? { base: L.calls.frameBase, bytes: L.calls.frameBytes } : null,
    total: r.sample.total,
    head: r.sample.head,
    tail: r.sample.tail,
    stride: r.sample.stride,
    visits: r.sample.visits,
    blocks,
    steps: r.sample.steps,
  };
}

/** The page's JSON, read back (for tests and tools). */
export function readTraceHtml(html: string): TracePageData {
  const m = /<script type="application\/json" id="wf-trace">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no trace data in the page');
  return JSON.parse(m[1]) as TracePageData;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
header{padding:10px 20px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:20px;margin:0 0 6px}h2{font-size:15px;margin:14px 0 6px}
.muted{color:#777}.mono,code,pre{font:12px ui-monospace,monospace}
#controls{position:sticky;top:0;z-index:1;background:#fff;border-bottom:1px solid #ddd;padding:6px 20px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
#controls input[type=range]{flex:1;min-width:200px}
#controls input[type=number]{width:90px}
main{display:flex;align-items:flex-start}
nav{width:330px;flex:none;position:sticky;top:44px;max-height:calc(100vh - 44px);overflow:auto;background:#fff;border-right:1px solid #ddd;padding:6px}
nav ol{list-style:none;margin:4px 0;padding:0;font:12px ui-monospace,monospace}
nav li{padding:1px 4px;cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav li:hover{background:#eef}nav li.sel{background:#ccd8ff}nav li.gap{color:#999;cursor:default;background:none}
#step{flex:1;min-width:0;padding:6px 20px}
table.t{border-collapse:collapse;font-size:12px;background:#fff}table.t td,table.t th{border:1px solid #e4e4e4;padding:2px 6px;text-align:left;vertical-align:top}
table.t td.n{text-align:right;font-family:ui-monospace,monospace}
.strip{display:inline-block;vertical-align:middle;white-space:nowrap;line-height:0}
.strip i{display:inline-block;width:5px;height:12px;margin-right:1px;background:#e8e8e8}
.strip i.p{background:#d8e8f8}.strip i.on{background:#d62728}.strip i.part{background:#ff9f40}
.onehot{color:#1a7f37;font-weight:600}
pre.ir{background:#fff;border:1px solid #ddd;padding:6px;overflow:auto;max-height:40vh}
pre.ir span{display:block}pre.ir span.hl{background:#ffe58a}
`;

/** The whole page. */
export function renderTraceHtml(r: TraceHtmlInput): string {
  const d = traceData(r);
  const o = r.outcome;
  const call = `${r.invoke}(${(r.argText ?? r.args.map(String)).join(', ')})`;
  const ended = o.error ? `error: ${o.error}` : o.trap ? `trap: ${o.trap}` : `results: ${o.results.join(' ') || '(none)'}`;
  const kept = d.stride === 0 ? `all ${d.total} steps` : `${d.steps.length} of ${d.total} steps: the first ${d.head}, every ${d.stride}th in between, the last ${d.tail}`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>wasmformer trace: ${escapeHtml(r.title)} ${escapeHtml(call)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<header><h1>${escapeHtml(r.title)}: ${escapeHtml(call)}</h1>`,
    `<div>${escapeHtml(ended)} after ${o.steps} steps${o.output ? `; output ${escapeHtml(JSON.stringify(o.output.length > 200 ? `${o.output.slice(0, 200)}…` : o.output))}` : ''}</div>`,
    `<div class="muted">${escapeHtml(kept)}. Keys: ← → step, PageUp/PageDown ±100, Home/End, g: go to step.</div></header>`,
    '<div id="controls"><button id="first" title="first (Home)">|◀</button><button id="prev" title="previous (←)">◀</button>',
    '<input id="slider" type="range" min="0" max="0" value="0" aria-label="step"><button id="next" title="next (→)">▶</button><button id="last" title="last (End)">▶|</button>',
    '<label>step <input id="goto" type="number" min="1"></label><span id="pos" class="muted"></span></div>',
    '<main><nav><div id="page" class="muted"></div><ol id="list"></ol><h2>Blocks by visits</h2><ol id="visits"></ol></nav>',
    '<section id="step"></section></main>',
    `<script type="application/json" id="wf-trace">${scriptJson(d)}</script>`,
    `<script>${TRACE_VIEWER_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
