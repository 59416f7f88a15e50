// backend/schedule.ts — pass 2: gadget graph → sublayer schedule.
//
// Sublayer points: layer l's attention sublayer is point 2l, its MLP is 2l+1;
// the embedding writes at point -1 and the readout reads at point 2L. A node
// is placed as early as possible (ASAP) at the first point of its kind after
// every input's definition. ASAP on an unbounded machine is optimal, so the
// layer count equals the critical-path lower bound, reported separately by
// criticalPath() from the dependency depth alone as a cross-check.

import type { Graph } from './graph.js';
import { nodeInputs } from './graph.js';
import type { Vreg } from './linear.js';

export interface Schedule {
  /** point of each node (index = node id) */
  nodePoint: number[];
  /** point where each vreg is defined (-1 = embedding) */
  defPoint: number[];
  layers: number;
  readoutPoint: number;
}

function firstPointAfter(p: number, kind: 'mlp' | 'attn'): number {
  let q = p + 1;
  const parity = kind === 'attn' ? 0 : 1;
  if (((q % 2) + 2) % 2 !== parity) q += 1;
  return q;
}

export function schedule(graph: Graph): Schedule {
  const defPoint = new Array<number>(graph.vregs.length).fill(Number.NaN);
  for (const v of graph.embed) defPoint[v] = -1;
  const nodePoint: number[] = [];
  let last = -1;
  for (const n of graph.nodes) {
    let ready = -1;
    for (const v of nodeInputs(n)) {
      const d = defPoint[v];
      if (Number.isNaN(d)) throw new Error(`schedule: ${n.role} reads v${v} (${graph.vregs[v].name}) before it is defined`);
      ready = Math.max(ready, d);
    }
    const p = firstPointAfter(ready, n.kind);
    nodePoint.push(p);
    for (const v of n.outputs) defPoint[v] = p;
    last = Math.max(last, p);
  }
  const layers = Math.max(1, Math.floor(last / 2) + 1);
  return { nodePoint, defPoint, layers, readoutPoint: 2 * layers };
}

/**
 * The latest point of each node (ALAP, index = node id) that keeps a schedule of `layers` layers:
 * a node must come before every reader (the readout and the memory rows read at 2·layers), at a
 * point of its kind. A node placed anywhere from its ASAP point (schedule()) to this one, with
 * every other node within its own range, keeps every input defined before it is read.
 */
export function latestPoints(graph: Graph, layers: number): number[] {
  const readout = 2 * layers;
  const readBy = new Array<number>(graph.vregs.length).fill(readout);
  const late = new Array<number>(graph.nodes.length).fill(0);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    let p = readout - 1;
    for (const v of n.outputs) p = Math.min(p, readBy[v] - 1);
    if (((p % 2) + 2) % 2 !== (n.kind === 'attn' ? 0 : 1)) p -= 1;
    late[i] = p;
    for (const v of nodeInputs(n)) readBy[v] = Math.min(readBy[v], p);
  }
  return late;
}

/**
 * Critical path in layers: the longest chain of (attention, MLP) sublayer
 * requirements, computed from dependency depth only (independent of schedule()).
 */
export function criticalPath(graph: Graph): number {
  const depth = new Map<Vreg, number>();
  for (const v of graph.embed) depth.set(v, -1);
  let last = -1;
  for (const n of graph.nodes) {
    let d = -1;
    for (const v of nodeInputs(n)) d = Math.max(d, depth.get(v) ?? -1);
    // next sublayer of the right parity
    let p = d + 1;
    if (n.kind === 'attn' && p % 2 !== 0) p += 1;
    if (n.kind === 'mlp' && p % 2 !== 1) p += 1;
    for (const v of n.outputs) depth.set(v, p);
    last = Math.max(last, p);
  }
  return Math.max(1, Math.floor(last / 2) + 1);
}
