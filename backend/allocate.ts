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
  // the lowest slot free before d: slots wait in `cleared` (by clear point) until d passes it,
  // then in `free` (by index)
  let slots = 0;
  const cleared = new Heap<[number, number]>((a, b) => a[0] - b[0] || a[1] - b[1]);
  const free = new Heap<number>((a, b) => a - b);
  for (const v of order) {
    const d = sched.defPoint[v];
    while (cleared.size > 0 && cleared.peek()[0] < d) free.push(cleared.pop()[1]);
    const s = free.size > 0 ? free.pop() : slots++;
    slot[v] = s;
    const c = clearPointOf(lastRead[v], sched.readoutPoint);
    if (c !== null) {
      cleared.push([c, s]);
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
  return { slot, dModel: Math.max(1, slots), clears, lastRead, maxLive, naiveSlots: order.length };
}

/** A binary min-heap under cmp (negative: a comes first). */
class Heap<T> {
  private readonly xs: T[] = [];
  constructor(private readonly cmp: (a: T, b: T) => number) {}
  get size(): number {
    return this.xs.length;
  }
  peek(): T {
    return this.xs[0];
  }
  push(x: T): void {
    const { xs, cmp } = this;
    xs.push(x);
    for (let i = xs.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (cmp(xs[i], xs[p]) >= 0) break;
      [xs[i], xs[p]] = [xs[p], xs[i]];
      i = p;
    }
  }
  pop(): T {
    const { xs, cmp } = this;
    const top = xs[0];
    const last = xs.pop()!;
    if (xs.length > 0) {
      xs[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < xs.length && cmp(xs[l], xs[m]) < 0) m = l;
        if (r < xs.length && cmp(xs[r], xs[m]) < 0) m = r;
        if (m === i) break;
        [xs[i], xs[m]] = [xs[m], xs[i]];
        i = m;
      }
    }
    return top;
  }
}
