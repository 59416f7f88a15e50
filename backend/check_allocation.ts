// backend/check_allocation.ts — an allocation checker independent of the allocator.
//
// It recomputes liveness from the graph and the schedule alone (definitions
// from node points, reads from node inputs and the readout) and replays the
// residual stream point by point, tracking which vreg each slot holds:
//   - a vreg defined at p must land in a slot that is empty at p (never used,
//     or explicitly cleared at an MLP point < p);
//   - a clear must happen at an MLP point at or after the vreg's last read;
//   - every read at p must find its vreg in its slot;
//   - no two vregs live at the same point share a slot.
// It throws with the first violation; tests run it on every emitted model.

import type { Graph } from './graph.js';
import { nodeInputs } from './graph.js';
import { lvars } from './linear.js';
import type { Vreg } from './linear.js';
import type { Schedule } from './schedule.js';
import type { Allocation } from './allocate.js';

export function checkAllocation(graph: Graph, sched: Schedule, alloc: Allocation): void {
  const name = (v: Vreg) => `v${v} (${graph.vregs[v].name})`;
  const def = new Map<Vreg, number>();
  for (const v of graph.embed) def.set(v, -1);
  graph.nodes.forEach((n, i) => n.outputs.forEach((v) => def.set(v, sched.nodePoint[i])));
  const readsAt = new Map<number, Set<Vreg>>();
  const addRead = (p: number, v: Vreg) => {
    const s = readsAt.get(p) ?? new Set<Vreg>();
    s.add(v);
    readsAt.set(p, s);
  };
  graph.nodes.forEach((n, i) => nodeInputs(n).forEach((v) => addRead(sched.nodePoint[i], v)));
  graph.readout.forEach((f) => lvars(f).forEach((v) => addRead(sched.readoutPoint, v)));

  graph.ports.forEach((row) => row.forEach((f) => lvars(f).forEach((v) => addRead(sched.readoutPoint, v))));
  if (graph.one !== undefined) addRead(sched.readoutPoint, graph.one); // the bias input of every map
  const last = new Map<Vreg, number>();
  for (const [p, vs] of readsAt) for (const v of vs) last.set(v, Math.max(last.get(v) ?? -Infinity, p));
  // The embedding writes every token component into slot t, read or not (then it must be cleared).
  graph.embed.forEach((v, t) => {
    if (alloc.slot[v] !== t) throw new Error(`allocation: embedding component ${t} is in slot ${alloc.slot[v]}, not ${t}`);
    if (!last.has(v)) last.set(v, -1);
  });

  const clearedAt = new Map<Vreg, number>();
  for (const [p, vs] of alloc.clears) {
    if (p % 2 !== 1) throw new Error(`allocation: clear at non-MLP point ${p}`);
    for (const v of vs) clearedAt.set(v, p);
  }
  const holder = new Map<number, Vreg>(); // slot -> vreg currently held
  const defsAt = new Map<number, Vreg[]>();
  for (const [v, p] of def) {
    if (!last.has(v)) {
      if (alloc.slot[v] !== -1) throw new Error(`allocation: ${name(v)} is never read but has a slot`);
      continue;
    }
    const l = defsAt.get(p) ?? [];
    l.push(v);
    defsAt.set(p, l);
  }
  for (let p = -1; p <= sched.readoutPoint; p++) {
    // reads see the state before this sublayer writes
    for (const v of readsAt.get(p) ?? []) {
      const s = alloc.slot[v];
      if (s < 0 || holder.get(s) !== v) throw new Error(`allocation: ${name(v)} read at point ${p} but slot ${s} holds ${holder.get(s)}`);
      if ((def.get(v) ?? Infinity) >= p) throw new Error(`allocation: ${name(v)} read at ${p} before definition`);
    }
    for (const v of defsAt.get(p) ?? []) {
      const s = alloc.slot[v];
      if (s < 0 || s >= alloc.dModel) throw new Error(`allocation: ${name(v)} has no valid slot`);
      if (holder.has(s)) throw new Error(`allocation: ${name(v)} written at ${p} into slot ${s} still holding ${name(holder.get(s)!)}`);
    }
    // clears of this point take effect after the sublayer; defs land now
    for (const v of defsAt.get(p) ?? []) holder.set(alloc.slot[v], v);
    for (const [v, c] of clearedAt) {
      if (c !== p) continue;
      const s = alloc.slot[v];
      if (holder.get(s) !== v) throw new Error(`allocation: clear of ${name(v)} at ${p} but slot ${s} holds another value`);
      if ((last.get(v) ?? -Infinity) > p) throw new Error(`allocation: ${name(v)} cleared at ${p} before its last read`);
      if ((defsAt.get(p) ?? []).some((w) => alloc.slot[w] === s)) throw new Error(`allocation: slot ${s} written and cleared at ${p}`);
      holder.delete(s);
    }
  }
  for (const v of last.keys()) {
    if (def.has(v) && (last.get(v) ?? 0) < sched.readoutPoint && !clearedAt.has(v)) {
      throw new Error(`allocation: ${name(v)} is never cleared`);
    }
  }
}
