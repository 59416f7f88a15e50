// backend/allocate.ts — pass 3: vregs → residual slots (a register allocator for the residual stream).
//
// Residual updates *add*, so a slot can be reused only after its old value is
// cancelled. A vreg v defined at point d and last read at point u occupies its
// slot over [d, c], where c is the clear point: the MLP sublayer of u's layer
// (c = u if u is an MLP point, u+1 if u is an attention point). That MLP adds
// two hidden units relu(x) and relu(-x) with output weights -1 and +1, which
// sets the slot to exactly 0. Vregs the readout reads live to the end; vregs
// nobody reads are not materialised at all, except the embedding's: the token is placed by
// one fixed embedding matrix shared by every expert, so token component t always lands in
// slot t (an unread one is cleared by the first MLP). Intervals are coloured greedily
// in order of definition, which is optimal for interval graphs, so dModel is
// the maximum overlap of the [d, c] intervals (at most one sublayer longer than
// pure liveness, whose maximum is reported as maxLive).

import type { Graph } from './graph.js';
import { nodeInputs } from './graph.js';
import { lvars } from './linear.js';
import type { Vreg } from './linear.js';
import type { Schedule } from './schedule.js';

export interface Allocation {
  /** slot of each vreg, -1 when not materialised */
  slot: number[];
  dModel: number;
  /** vregs cleared by the MLP at each point */
  clears: Map<number, Vreg[]>;
  /** last point at which each vreg is read (NaN when never read) */
  lastRead: number[];
  maxLive: number;
  naiveSlots: number;
}

function readPoints(graph: Graph, sched: Schedule): number[][] {
  const reads: number[][] = graph.vregs.map(() => []);
  graph.nodes.forEach((n, i) => {
    for (const v of nodeInputs(n)) reads[v].push(sched.nodePoint[i]);
  });
  for (const f of graph.readout) for (const v of lvars(f)) reads[v].push(sched.readoutPoint);
  for (const row of graph.ports) for (const f of row) for (const v of lvars(f)) reads[v].push(sched.readoutPoint);
  if (graph.one !== undefined) reads[graph.one].push(sched.readoutPoint); // every bias reads it
  for (const v of graph.embed) if (reads[v].length === 0) reads[v].push(-1);
  return reads;
}

function clearPointOf(lastRead: number, readoutPoint: number): number | null {
  if (lastRead >= readoutPoint) return null;
  if (lastRead < 0) return 1;
  return lastRead % 2 === 1 ? lastRead : lastRead + 1;
}

export function allocate(graph: Graph, sched: Schedule): Allocation {
  const reads = readPoints(graph, sched);
  const lastRead = reads.map((r) => (r.length ? Math.max(...r) : Number.NaN));
  const slot = new Array<number>(graph.vregs.length).fill(-1);
  const clears = new Map<number, Vreg[]>();
  const order = graph.vregs
    .map((v) => v.id)
    .filter((v) => !Number.isNaN(lastRead[v]))
    .sort((a, b) => sched.defPoint[a] - sched.defPoint[b] || a - b);
  const freeAfter: number[] = []; // per slot: point after which it may be written again
  for (const v of order) {
    const d = sched.defPoint[v];
    let s = freeAfter.findIndex((f) => f < d);
    if (s < 0) {
      s = freeAfter.length;
      freeAfter.push(0);
    }
    slot[v] = s;
    const c = clearPointOf(lastRead[v], sched.readoutPoint);
    if (c === null) freeAfter[s] = Number.POSITIVE_INFINITY;
    else {
      freeAfter[s] = c;
      const list = clears.get(c) ?? [];
      list.push(v);
      clears.set(c, list);
    }
  }
  // Pure liveness lower bound: live at p iff def <= p <= lastRead.
  const events: Array<[number, number]> = [];
  for (const v of order) {
    events.push([sched.defPoint[v], 1]);
    events.push([lastRead[v] + 0.5, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let live = 0;
  let maxLive = 0;
  for (const [, d] of events) {
    live += d;
    maxLive = Math.max(maxLive, live);
  }
  graph.embed.forEach((v, t) => {
    if (slot[v] !== t) throw new Error(`allocate: embedding component ${t} (${graph.vregs[v].name}) landed in slot ${slot[v]}`);
  });
  return { slot, dModel: Math.max(1, freeAfter.length), clears, lastRead, maxLive, naiveSlots: order.length };
}
