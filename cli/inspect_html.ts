// cli/inspect_html.ts — the `wasmformer inspect` report: one self-contained HTML page per model.
//
// The page needs no network and works from file://: CSS, the data (the model's validated inspect
// metadata, format/inspect.ts, as JSON in a <script type="application/json">) and the viewer
// script (cli/inspect_viewer.ts) are inline, and every chart is inline SVG. The summary and the
// block list are static HTML; a block's slot chart, sublayer table, density grids and IR text are
// drawn by the viewer only when the block is picked, so a program of thousands of blocks stays
// responsive. Everything taken from the model (function names, IR text) reaches the page as
// escaped text: the viewer only ever sets textContent.

import type { ModelLayout } from '../format/layout.js';
import { VALUE_ROLES, type ExpertInspect, type InspectInfo } from '../format/inspect.js';
import { VIEWER_SCRIPT } from './inspect_viewer.js';

/** One colour per VALUE_ROLES entry (same order). */
export const ROLE_COLORS: readonly string[] = [
  '#222222', // constant one
  '#1f77b4', // argument
  '#17becf', // global
  '#9467bd', // time
  '#2ca02c', // limb
  '#d62728', // carry
  '#ff7f0e', // bit
  '#8c564b', // address bit
  '#e377c2', // byte
  '#bcbd22', // memory read
  '#7f7f7f', // gate
  '#000080', // next token
  '#c7c7c7', // other
];

export interface ReportInput {
  /** Shown as the title (the model file's name). */
  title: string;
  /** Size of the model file in bytes. */
  modelBytes: number;
  /** Size of the inspect entry's JSON in bytes. */
  inspectBytes: number;
  layout: ModelLayout;
  info: InspectInfo;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

/** JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), no U+2028/9. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** `func:blockN` — how the page (and --trace) names an expert. */
export function blockName(e: Pick<ExpertInspect, 'func' | 'block'>): string {
  return `${e.func}:block${e.block}`;
}

function summaryRows(r: ReportInput): Array<[string, string]> {
  const s = r.layout.stats;
  const exports = r.layout.entries.map((e) => `${e.name}(${e.params}) → ${e.results}`).join(', ') || '(none)';
  const funcs = new Set(r.info.experts.map((e) => e.func)).size;
  return [
    ['program', `${funcs} function${funcs === 1 ? '' : 's'}; exports ${exports}`],
    ['blocks (experts)', `${fmt(s.experts)}, ${r.layout.routing === 'gather' ? 'routed by pc (sparse experts)' : 'dense, one-hot routed'}`],
    ['layers', `${s.layers} (lower bound: critical path ${s.criticalPath})`],
    ['width dModel', `${s.dModel} (lower bound: maxLive ${s.maxLive}; one slot per value would take ${s.naiveSlots})`],
    ['attention heads', `${fmt(s.heads)} (summed over layers, widest expert per layer)`],
    ['MLP hidden units', `${fmt(s.mlpHidden)} (summed over layers, widest expert per layer)`],
    ['parameters', `${fmt(s.params)} stored, ${fmt(s.nonzeros)} nonzero weights`],
    ['stored bytes', `${fmt(r.modelBytes)} (model file; the inspect entry is ${fmt(r.inspectBytes)} of them)`],
    ['memory', r.layout.memory ? `${fmt(r.layout.memory.memBytes)} bytes linear memory, ${r.layout.storePorts} memory rows per step` : 'none'],
    ['density grids', r.info.gridSide ? `at most ${r.info.gridSide}×${r.info.gridSide} cells per map` : 'left out (the entry was capped to stay small)'],
  ];
}

function summaryTable(r: ReportInput): string {
  return `<table class="summary">${summaryRows(r).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

function blockItem(e: ExpertInspect): string {
  const text = `${e.pc}  ${blockName(e)}  ·  ${e.layers}L × ${e.dModel}`;
  return `<li data-pc="${e.pc}" tabindex="0">${escapeHtml(text)}</li>`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:16px 0 6px}h3{font-size:14px;margin:12px 0 4px}
table.summary th{text-align:left;padding-right:16px;font-weight:600;vertical-align:top}
main{display:flex;align-items:flex-start}
nav{width:300px;flex:none;position:sticky;top:0;max-height:100vh;overflow:auto;background:#fff;border-right:1px solid #ddd;padding:8px}
nav input{width:100%;box-sizing:border-box;padding:4px}
nav ol{list-style:none;margin:4px 0;padding:0;font:12px ui-monospace,monospace}
nav li{padding:2px 4px;cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav li:hover{background:#eef}nav li.sel{background:#ccd8ff}
#block{flex:1;min-width:0;padding:8px 20px}
.scroll{overflow:auto;max-width:100%;border:1px solid #ddd;background:#fff}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
pre.ir{background:#fff;border:1px solid #ddd;padding:6px;font:12px ui-monospace,monospace;overflow:auto}
pre.ir>span{display:block;cursor:pointer}pre.ir span.n{color:#777}pre.ir span:hover{background:#eef}pre.ir span.hl{background:#ffe58a}
svg text{font:10px ui-monospace,monospace}
rect.v{stroke:#fff;stroke-width:.5;cursor:pointer}rect.v.hl{stroke:#000;stroke-width:2}
rect.v.dim{opacity:.25}
table.sub{border-collapse:collapse;font-size:12px}table.sub td,table.sub th{border-top:1px solid #eee;padding:3px 6px;vertical-align:top;text-align:left}
.maps svg{margin:2px 8px 2px 0;border:1px solid #ccc;background:#fff}
.muted{color:#777}
`;

/** The whole page. */
export function renderInspectHtml(r: ReportInput): string {
  const data = { roles: VALUE_ROLES, colors: ROLE_COLORS, info: r.info };
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>wasmformer inspect: ${escapeHtml(r.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<header><h1>${escapeHtml(r.title)}</h1>${summaryTable(r)}</header>`,
    '<main>',
    `<nav><input id="filter" type="search" placeholder="filter blocks: pc, name, IR text" aria-label="filter blocks"><div id="count" class="muted">${r.info.experts.length} blocks</div>`,
    `<ol id="list">${r.info.experts.map(blockItem).join('')}</ol></nav>`,
    '<section id="block"><p class="muted">Pick a block on the left: its residual-slot chart, sublayers, maps and IR appear here.</p></section>',
    '</main>',
    `<script type="application/json" id="wf-data">${scriptJson(data)}</script>`,
    `<script>${VIEWER_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
