// backend/bit_slack.ts — which bit decompositions of a block may take the slower, smaller form.
//
// A limb's bits come from two MLP sublayers of about 765 units (gadgets/bits.ts), or from four
// sublayers of about 105 units that peel a nibble each. The small form gives bits 8..11 one
// sublayer later than the fast hi() and bits 0..7 two sublayers later than the fast lo(); where
// the block's schedule has that much slack, the step gets no deeper and its expert loses about
// 4,500 entries a limb (each costs its gather, multiply and scatter-add in every step, DESIGN.md §8).
//
// lowerBlock (ir_to_graph.ts) lowers a block with the fast form, schedules it, asks
// slackDecompositions for the names whose nodes have the slack (ALAP − ASAP, schedule.ts
// latestPoints, against the block's own layer count), lowers it again with those in
// GraphBuilder.cheapBits, and keeps the second graph when it is no deeper. Both graphs compute
// the same values exactly; only the gadgets differ.

import type { Graph } from './graph.js';
import type { Schedule } from './schedule.js';
import { latestPoints } from './schedule.js';

const HI = '.bits_hi';
const LO = '.bits_lo';

/** Points an MLP node moves per extra sublayer (attention and MLP sublayers alternate). */
const SUBLAYER = 2;

/** The decompositions (LimbBits names) whose bits the small form delivers soon enough. */
export function slackDecompositions(graph: Graph, sched: Schedule): Set<string> {
  const his = new Map<string, number>();
  const los = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    if (n.kind !== 'mlp') return;
    if (n.role.endsWith(HI)) his.set(n.role.slice(0, -HI.length), i);
    else if (n.role.endsWith(LO)) los.set(n.role.slice(0, -LO.length), i);
  });
  const cheap = new Set<string>();
  if (his.size === 0) return cheap;
  const late = latestPoints(graph, sched.layers);
  const slack = (i: number) => late[i] - sched.nodePoint[i];
  for (const [name, hi] of his) {
    const lo = los.get(name);
    if (slack(hi) >= SUBLAYER && (lo === undefined || slack(lo) >= 2 * SUBLAYER)) cheap.add(name);
  }
  return cheap;
}
