// test/step_shape.test.ts — what one step may hold: an output anywhere among traps, and jumps merged.
//
// An output need not be the last effect of its step: the readout zeroes the byte when an access
// before it trapped (lower_block.ts outputOf), so a block with an output and later accesses is
// one step, and prints exactly what native prints whichever of its accesses trap. A loop block
// takes in the block it goes to (a jump's target; a br_if's pure side, speculated) where the
// merged block fits (merge_steps.ts): fewer steps, the same results, outputs and memory as V8
// and the IR interpreter (which runs the merged module step for step). A bit decomposition off
// the step's critical path takes the small form (bit_slack.ts): the step gets no deeper. A branch
// condition that is a comparison, an eqz or a select of a value or 0 costs no sublayer of its own,
// and an unrolled loop's later iterations, guarded by the AND of the tests before them, no depth.

import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';
import { compileToIR } from '../frontend/index.js';
import { compileIR } from '../backend/index.js';
import { interpret } from '../ir/interp.js';
import { parseModule } from '../ir/parse.js';
import { printModule } from '../ir/print.js';
import { mergeInto, mergeSteps } from '../backend/merge_steps.js';
import { TrapCode } from '../format/errors.js';
import { latestPoints, schedule } from '../backend/schedule.js';
import { nodeInputs } from '../backend/graph.js';

const OUTPUTS = `(module
  (import "env" "output_byte" (func $o (param i32)))
  (memory 1)
  ;; 'A', then a load of address p: out of bounds from p = 65533 on
  (func (export "out_then_load") (param i32) (result i32)
    (call $o (i32.const 65)) (i32.load (local.get 0)))
  ;; a load of p, then 'B': the byte only when the load is in bounds
  (func (export "load_then_out") (param i32) (result i32)
    (i32.load (local.get 0)) (call $o (i32.const 66)))
  ;; a division by p between a store and 'C', then a load of p
  (func (export "div_out_load") (param i32) (result i32)
    (i32.store8 (i32.const 7) (i32.const 9))
    (i32.div_u (i32.const 100) (local.get 0))
    (call $o (i32.add (i32.const 67) (i32.load8_u (i32.const 7))))
    (i32.load8_u (local.get 0)) (i32.add)))`;

describe('an output among traps', () => {
  it('is one step, and its byte is written exactly when native writes it', async () => {
    const m = await compile(OUTPUTS, { filename: 'outputs.wat' });
    const model = await TransformerModel.load(m.onnx);
    const native = await compile(OUTPUTS, { filename: 'outputs.wat' }).then((x) => x.wasm);
    const edges = [[0], [4], [65532], [65533], [65535], [65536], [-1]];
    const report = await checkProgram(model, m.ir, native, { cases: 20, extraArgs: { out_then_load: edges, load_then_out: edges, div_out_load: edges } });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args}): ${c.reason}`).join('\n')).toBe(0);
    expect(report.passed).toBeGreaterThan(3 * edges.length);
    const run = async (name: string, p: number) => (await model.runBatch(name, [[p]], [model.newMemory()]))[0];
    const kept = await run('out_then_load', 65533);
    expect([kept.steps, [...kept.output], kept.trapCode]).toEqual([1, [65], TrapCode.OutOfBounds]);
    const dropped = await run('load_then_out', 65533);
    expect([dropped.steps, [...dropped.output], dropped.trapCode]).toEqual([1, [], TrapCode.OutOfBounds]);
    const byZero = await run('div_out_load', 0);
    expect([[...byZero.output], byZero.trapCode]).toEqual([[], TrapCode.IntegerDivideByZero]);
    const late = await run('div_out_load', 65536);
    expect([[...late.output], late.trapCode]).toEqual([[76], TrapCode.OutOfBounds]);
  });
});

// a loop whose odd iterations run a block that jumps to the loop's shared tail
const LOOP = `(module
  (memory 1)
  (func (export "walk") (param i32) (result i32) (local i32)
    (loop $l
      (if (i32.and (local.get 0) (i32.const 1))
        (then (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const 3))))))
      (local.set 1 (i32.xor (local.get 1) (i32.shl (local.get 0) (i32.const 2))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get 0) (i32.const 0))))
    ;; after the loop, a deeper block (a chain of loads): merged loop blocks fit beneath it
    (i32.store (i32.const 8) (local.get 1))
    (i32.load8_u (i32.load8_u (i32.and (local.get 1) (i32.const 0xff))))
    (local.get 1) (i32.add)))`;

const LOOP_IR = `func $f (export "f") params=1 results=1
block0(v0):
  v1 = iconst 0
  jump block1(v0, v1)
block1(v2, v3):
  v4 = iconst 1
  v5 = and v2, v4
  br_if v5, block2(v2, v3), block3(v2, v3)
block2(v6, v7):
  v8 = add v7, v6
  jump block3(v6, v8)
block3(v9, v10):
  v11 = iconst -1
  v12 = add v9, v11
  br_if v12, block1(v12, v10), block4(v10)
block4(v13):
  return v13
`;

// a counting loop whose test block is pure: merged into the body's step
const SPEC = `(module
  (func (export "count") (param i32) (result i32) (local i32 i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
      (local.set 2 (i32.add (local.get 2) (i32.xor (local.get 1) (i32.const 0x55))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br $l)))
    (local.get 2)))`;

describe('merged jumps', () => {
  it('take fewer steps than the blocks the frontend made, and agree with V8 and the IR interpreter', async () => {
    const m = await compile(LOOP, { filename: 'loop.wat' });
    const model = await TransformerModel.load(m.onnx);
    const report = await checkProgram(model, m.ir, m.wasm, { ranges: [[0, 200]], cases: 24 });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.args}: ${c.reason}`).join('\n')).toBe(0);
    const { ir: unmerged } = await compileToIR(LOOP, { filename: 'loop.wat' });
    const before = interpret(unmerged, 'walk', [101]);
    const [after] = await model.runBatch('walk', [[101]], [model.newMemory()]);
    expect(after.results).toEqual(before.results);
    // every one of the 101 iterations saves at least a step (the odd ones' jump to the tail, the
    // tail's test speculated into the header)
    expect(before.steps - after.steps).toBeGreaterThanOrEqual(101);
  });

  it('renames the merged block\'s values, substitutes its parameters, and merges only on cycles', () => {
    const mod = parseModule(LOOP_IR);
    const f = mod.funcs[0];
    let next = 14;
    const merged = mergeInto(f.blocks[2], f.blocks[3], () => next++);
    expect(merged.params).toEqual([6, 7]);
    expect(merged.insts.map((i) => ('dst' in i ? i.dst : -1))).toEqual([8, 14, 15]);
    expect(merged.insts[2]).toEqual({ op: 'binary', code: 'add', dst: 15, a: 6, b: 14 });
    expect(merged.term).toEqual({ op: 'br_if', cond: 15, then: { block: 1, args: [15, 8] }, else: { block: 4, args: [8] } });
    // block2 (on the loop) takes in block3; block0 (off every cycle) keeps its jump
    let tries = 0; // one merge: block2 then ends in block3's br_if (a later try would speculate block1)
    const out = mergeSteps(mod, 32, (_f, _b, index) => index === 2 && tries++ === 0);
    expect(out.funcs[0].blocks[2].term.op).toBe('br_if');
    expect(mergeSteps(mod, 32, () => true).funcs[0].blocks[0].term.op).toBe('jump');
    for (const a of [1, 3, 6, 9]) expect(interpret(out, 'f', [a]).results).toEqual(interpret(mod, 'f', [a]).results);
    expect([interpret(mod, 'f', [3]).steps, interpret(out, 'f', [3]).steps]).toEqual([10, 8]);
  });

  it('speculates a pure side of a br_if: a br_if for its jump, a br_table read off selects for its br_if', () => {
    const mod = parseModule(LOOP_IR);
    // block1 takes in its pure then side (block2, a jump to block3), then block3 (pure, a br_if)
    let merges = 0;
    const out = mergeSteps(mod, 32, (_f, _b, index) => index === 1 && merges++ < 2);
    const b1 = out.funcs[0].blocks[1];
    expect(b1.term.op).toBe('br_table');
    if (b1.term.op !== 'br_table') return;
    expect([b1.term.targets.map((t) => t.block), b1.term.default.block]).toEqual([[1, 4], 3]);
    expect(b1.insts.filter((i) => i.op === 'select')).toHaveLength(2);
    for (const a of [1, 2, 3, 6, 9, 100]) expect(interpret(out, 'f', [a]).results).toEqual(interpret(mod, 'f', [a]).results);
    expect(interpret(out, 'f', [9]).steps).toBeLessThan(interpret(mod, 'f', [9]).steps);
    // then the table's pure default (block3 again, on the path where block2 was not taken) one level deeper
    const deeper = mergeSteps(mod, 32, (_f, _b, index) => index === 1);
    const t = deeper.funcs[0].blocks[1].term;
    expect(t.op === 'br_table' ? [t.targets.map((x) => x.block), t.default.block] : t.op).toEqual([[1, 4, 1], 4]);
    // the new tree's three selects only: the old tree's two are dropped
    expect(deeper.funcs[0].blocks[1].insts.filter((i) => i.op === 'select')).toHaveLength(3);
    for (const a of [1, 2, 3, 6, 9, 100]) expect(interpret(deeper, 'f', [a]).results).toEqual(interpret(mod, 'f', [a]).results);
    expect(interpret(deeper, 'f', [9]).steps).toBeLessThan(interpret(out, 'f', [9]).steps);
  });

  it('runs speculated loops on the transformer exactly, with a loads-free body in one step an iteration', async () => {
    const m = await compile(SPEC, { filename: 'spec.wat' });
    const model = await TransformerModel.load(m.onnx);
    const report = await checkProgram(model, m.ir, m.wasm, { ranges: [[0, 300]], cases: 30 });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.args}: ${c.reason}`).join('\n')).toBe(0);
    const [o] = await model.runBatch('count', [[200]], [model.newMemory()]);
    const { ir: unmerged } = await compileToIR(SPEC, { filename: 'spec.wat' });
    expect(o.results).toEqual(interpret(unmerged, 'count', [200]).results);
    // the frontend's loop takes two steps an iteration (test, body); merged, one
    expect(interpret(unmerged, 'count', [200]).steps).toBeGreaterThan(400);
    expect(o.steps).toBeLessThanOrEqual(205);
  });
});

// a byte copied as it was loaded: printed and stored without decomposing the value again
const COPY = `(module
  (import "env" "output_byte" (func $o (param i32)))
  (memory 1)
  (data (i32.const 16) "\\41\\e9\\ff\\00\\7f")
  (func (export "copy") (param i32) (result i32)
    (call $o (i32.load8_s (local.get 0)))
    (i32.store8 (i32.const 100) (i32.load8_s (local.get 0)))
    (i32.store16 (i32.const 102) (i32.load8_s (local.get 0)))
    (i32.store16 (i32.const 104) (i32.load16_u (local.get 0)))
    (i32.load (i32.const 100))))`;

describe('loaded bytes', () => {
  it('are written as looked up by an output and a store of no more bytes, and agree with V8', async () => {
    const m = await compile(COPY, { filename: 'copy.wat' });
    const model = await TransformerModel.load(m.onnx);
    const report = await checkProgram(model, m.ir, m.wasm, { ranges: [[0, 65536]], cases: 12, extraArgs: { copy: [[16], [17], [18], [19], [20], [65535], [65536]] } });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.args}: ${c.reason}`).join('\n')).toBe(0);
    const { ir } = await compileToIR(COPY, { filename: 'copy.wat' });
    const roles = compileIR(ir).program.experts.flatMap((e) => e.graph.nodes.map((n) => n.role));
    // the output and the store8 and store16 of loaded bytes decompose nothing; the store16 of a
    // sign-extended byte needs its second byte, so it does
    expect(roles.filter((r) => r.includes('output.bytes'))).toEqual([]);
    expect(roles.filter((r) => /store[03]\.value\.bytes/.test(r))).toEqual([]);
    expect(roles.filter((r) => /store1\.value\.bytes/.test(r)).length).toBeGreaterThan(0);
  });
});

// loops unrolled once: the second iteration's accesses and output guarded by the loop's test
const UNROLL = `(module
  (import "env" "output_byte" (func $o (param i32)))
  (memory 1)
  (data (i32.const 65520) "0123456789abcdef")
  ;; prints bytes p, p+1, … until a 0 byte or the end of memory (an out-of-bounds load traps)
  (func (export "puts") (param i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (local.get 0))))
      (call $o (i32.load8_u (local.get 0)))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br $l))))
  ;; stores n decimal digits of v from address 100 down, then returns the digit count
  (func (export "digits") (param i32) (result i32) (local i32)
    (loop $l
      (i32.store8 (i32.sub (i32.const 100) (local.get 1)) (i32.or (i32.rem_u (local.get 0) (i32.const 10)) (i32.const 48)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (local.set 0 (i32.div_u (local.get 0) (i32.const 10)))
      (br_if $l (local.get 0)))
    (local.get 1))
  ;; a deep block (chained loads): the loops' merged steps fit beneath it
  (func (export "deep") (param i32) (result i32)
    (i32.load8_u (i32.load8_u (i32.load8_u (i32.and (local.get 0) (i32.const 0xffff)))))))`;

// branches on conditions made of conditions: a select of a value or 0, an eqz, a comparison
const CONDS = `(module
  ;; 7 when a and b are both nonzero (a branch on a ? b : 0), else 3
  (func (export "both") (param i32 i32) (result i32)
    (block $yes
      (br_if $yes (select (local.get 1) (i32.const 0) (local.get 0)))
      (return (i32.const 3)))
    (i32.const 7))
  ;; 5 when a is zero (a branch on eqz a), else 9
  (func (export "zero") (param i32) (result i32)
    (block $yes
      (br_if $yes (i32.eqz (local.get 0)))
      (return (i32.const 9)))
    (i32.const 5))
  ;; 1 when a < b unsigned (a branch on the comparison itself), else 2
  (func (export "below") (param i32 i32) (result i32)
    (block $yes
      (br_if $yes (i32.lt_u (local.get 0) (local.get 1)))
      (return (i32.const 2)))
    (i32.const 1)))`;

describe('branch conditions', () => {
  it('are read as 0/1 forms: a select of a value or 0 is an AND, an eqz 1 − c, a comparison itself', async () => {
    const m = await compile(CONDS, { filename: 'conds.wat' });
    const model = await TransformerModel.load(m.onnx);
    const edge = [0, 1, -1, 0x10000, 0x8000_0000, 0xffff, 2];
    const pairs = edge.flatMap((a) => edge.map((b) => [a, b]));
    const report = await checkProgram(model, m.ir, m.wasm, { cases: 8, extraArgs: { both: pairs, zero: edge.map((a) => [a]), below: pairs } });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args}): ${c.reason}`).join('\n')).toBe(0);
    // both: nonzero of each operand, then the AND (2 layers; with a select gadget and a nonzero of
    // its result it was 3); below: the comparison's 2 layers (3 with a nonzero after it); zero: the
    // operand's nonzero only (it exits at depth 1; the eqz gadget and a nonzero after it took 2)
    expect(m.stats.layers).toBe(2);
    const expert = (func: string) => m.layout.experts.find((e) => e.func === func && e.block === 0)!;
    expect([expert('both').exit, expert('below').exit, expert('zero').exit]).toEqual([undefined, undefined, 1]);
  });
});

// the idioms sudoku's peer loop is made of: a lazy address, a byte times 4, x & (x − 1), a stored or
const IDIOMS = `(module
  (memory 1)
  (data (i32.const 0) "\\01\\05\\0a\\ff")
  ;; 1 when x has two bits set or more (the branch reads x & (x − 1)), else 0
  (func (export "two_bits") (param i32) (result i32)
    (block $yes
      (br_if $yes (i32.and (local.get 0) (i32.add (local.get 0) (i32.const -1))))
      (return (i32.const 0)))
    (i32.const 1))
  ;; the word at g + 4·m[k] (a load8_u shifted, added to g: a lazy address)
  (func (export "index") (param i32 i32) (result i32)
    (i32.load (i32.add (local.get 0) (i32.shl (i32.load8_u (i32.and (local.get 1) (i32.const 3))) (i32.const 2)))))
  ;; the first k < 16 whose byte m[k] has a bit of mask set, or 16 (a loop whose test and latch
  ;; merge into one select tree: the test's nonzero joins the tree's AND)
  (func (export "find") (param $mask i32) (result i32) (local $k i32)
    (block $found (loop $l
      (br_if $found (i32.and (i32.load8_u (local.get $k)) (local.get $mask)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.ne (local.get $k) (i32.const 16)))))
    (local.get $k))
  ;; stores a | b at p and returns the word there (the store's bytes are the OR's bits)
  (func (export "store_or") (param i32 i32 i32) (result i32)
    (i32.store (local.get 0) (i32.or (local.get 1) (local.get 2)))
    (i32.load (local.get 0))))`;

describe('idioms', () => {
  it('x & (x − 1) as a branch, g + 4·byte as an address, a masked loop test, the bytes of a stored or: V8\'s results, shallow', async () => {
    const m = await compile(IDIOMS, { filename: 'idioms.wat' });
    const model = await TransformerModel.load(m.onnx);
    const edge = [0, 1, 2, 3, 0x80, 0x8000_0000, 0xc000_0000, -1, 0x10000, 0x10001, 0xfffe];
    const report = await checkProgram(model, m.ir, m.wasm, {
      cases: 8,
      extraArgs: {
        two_bits: edge.map((x) => [x]),
        find: [[0], [1], [2], [4], [8], [0x80], [0x100], [-1], [0xf0]],
        // g near 2^32 with 4·m[k] carrying past it (g + 4 → 0..), near the top of memory, out of bounds
        index: [0, 4, 65500, 65535, 65536, -4, -20, -1020, -1021].flatMap((g) => [0, 1, 2, 3].map((k) => [g, k])),
        store_or: [[0, 1, 2], [100, 0xf0f0, 0x0f0f], [65532, -1, 0], [65533, 1, 1], [8, 0x1234_5678, -0x1234_5679]],
      },
    });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args}): ${c.reason}`).join('\n')).toBe(0);
    const { ir } = await compileToIR(IDIOMS, { filename: 'idioms.wat' });
    const experts = compileIR(ir).program.experts;
    const roles = (func: string) => experts.filter((e) => e.func === func).flatMap((e) => e.graph.nodes.map((n) => n.role));
    // x & (x − 1): a step of popcnt over x's bits (x − 1 is never decomposed, nor the AND built)
    expect(roles('two_bits').some((r) => r.endsWith('.two_bits'))).toBe(true);
    expect(roles('two_bits').filter((r) => /\.b\.|\.and$|canon/.test(r))).toEqual([]);
    // the address: no canon_lo, no shl gadget; the stored or: no byte decomposition of its own
    expect(roles('index').filter((r) => r.includes('canon') || r.includes('shl'))).toEqual([]);
    expect(roles('store_or').filter((r) => r.includes('.value.bytes'))).toEqual([]);
    // the loop's test m[k] & mask: a weighted step in the select tree's AND, no nonzero sublayer
    expect(roles('find').some((r) => r.endsWith('.br_table.and'))).toBe(true);
    expect(roles('find').filter((r) => r.endsWith('.nonzero'))).toEqual([]);
  });
});

// a loop whose iterations are independent two-load chains: its later iterations add no depth
const CHAIN = `(module
  (import "env" "output_byte" (func $o (param i32)))
  (memory 1)
  (data (i32.const 0) "\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\1a\\1b\\1c\\1d\\1e\\1f")
  (data (i32.const 16) "abcdefghijklmnop")
  ;; prints the letters m[m[i]] for i = 0 .. n − 1 (at least one: the loop tests at its end)
  (func (export "chain") (param $n i32) (local $i i32)
    (loop $l
      (call $o (i32.load8_u (i32.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; a deep block (three chained loads): the loop's unrolled steps fit beneath it
  (func (export "deep") (param i32) (result i32)
    (i32.load8_u (i32.load8_u (i32.load8_u (i32.and (local.get 0) (i32.const 0xffff)))))))`;

describe('unrolled loops', () => {
  it('take later iterations where the step gets no deeper, each guarded by the AND of the tests before it', async () => {
    const m = await compile(CHAIN, { filename: 'chain.wat' });
    const blocks = m.ir.funcs.flatMap((f) => f.blocks);
    const loop = blocks.find((b) => b.insts.filter((i) => i.op === 'output').length >= 3);
    expect(loop, printModule(m.ir)).toBeDefined();
    // the third iteration's guard: select l, g, 0 over the first two tests (no select is computed)
    const defs = new Map(loop!.insts.flatMap((i) => ('dst' in i ? [[i.dst, i] as const] : [])));
    const guards = loop!.insts.flatMap((i) => (i.op === 'output' && i.guard !== undefined ? [i.guard] : []));
    expect(guards.some((g) => defs.get(g)?.op === 'select')).toBe(true);
    const model = await TransformerModel.load(m.onnx);
    const cases = [[0], [1], [2], [3], [4], [5], [6], [15], [16], [17], [-1]];
    const report = await checkProgram(model, m.ir, m.wasm, { cases: 12, ranges: [[0, 40]], extraArgs: { chain: cases } });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.args}: ${c.reason}`).join('\n')).toBe(0);
    const [o] = await model.runBatch('chain', [[16]], [model.newMemory()]);
    expect(new TextDecoder().decode(o.output)).toBe('abcdefghijklmnop');
    const { ir } = await compileToIR(CHAIN, { filename: 'chain.wat' });
    expect(interpret(ir, 'chain', [16]).steps).toBeGreaterThanOrEqual(16);
    expect(o.steps).toBeLessThanOrEqual(Math.ceil(16 / 3) + 2);
  });


  it('guard the second iteration: outputs, stores and traps happen exactly when native has them', async () => {
    const m = await compile(UNROLL, { filename: 'unroll.wat' });
    expect(printModule(m.ir)).toMatch(/ if v\d+/);
    const model = await TransformerModel.load(m.onnx);
    const starts = [[65520], [65521], [65530], [65535], [0], [65536], [-1]];
    const report = await checkProgram(model, m.ir, m.wasm, { cases: 12, ranges: [[65500, 65536]], extraArgs: { puts: starts, digits: [[0], [7], [10], [99], [12345], [-1], [2147483647]], deep: [[3]] } });
    expect(report.failed, report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args}): ${c.reason}`).join('\n')).toBe(0);
    // the 16 bytes up to the end of memory, then the load past it traps, after the last byte
    const [o] = await model.runBatch('puts', [[65520]], [model.newMemory()]);
    expect([new TextDecoder().decode(o.output), o.trapCode]).toEqual(['0123456789abcdef', TrapCode.OutOfBounds]);
    const { ir } = await compileToIR(UNROLL, { filename: 'unroll.wat' });
    expect(o.steps).toBeLessThan(interpret(ir, 'puts', [65520]).steps * 0.75);
  });

  it('print and parse their guards, and the IR interpreter skips a guarded access whose guard is 0', () => {
    const text = `memory pages=1 max=1

func $g (export "g") params=2 results=1
block0(v0, v1):
  v2 = load8_u v0 offset=0 if v1
  store8 v0, v1 offset=1 if v1
  output v2 if v1
  return v2
`;
    const mod = parseModule(text);
    expect(printModule(mod)).toBe(text);
    expect(interpret(mod, 'g', [70000, 0])).toMatchObject({ results: [0], trap: null, output: [] });
    expect(interpret(mod, 'g', [70000, 1]).trapCode).toBe(TrapCode.OutOfBounds);
    const r = interpret(mod, 'g', [5, 9]);
    expect([r.results, r.output, r.memory[6]]).toEqual([[0], [0], 9]);
    expect(() => parseModule(text.replace('return v2', 'v3 = add v2, v2 if v1\n  return v3'))).toThrow(/only loads, stores and outputs take a guard/);
  });
});

// a ^ b is needed only at the end, after a chain of two dependent loads: its bits have slack
const SLACK = `(module (memory 1) (data (i32.const 0) "\\07\\03\\ff\\10\\80\\01\\02\\09")
  (func (export "f") (param $a i32) (param $b i32) (param $p i32) (result i32)
    (i32.add (i32.load8_u (i32.load8_u (local.get $p))) (i32.xor (local.get $a) (local.get $b))))
  (func (export "g") (param $a i32) (param $b i32) (result i32)
    (i32.xor (local.get $a) (local.get $b))))`;

describe('bit decompositions off the critical path', () => {
  it('take the small form, leave the step as deep, and agree with V8 and the IR interpreter', async () => {
    const { ir } = await compileToIR(SLACK, { filename: 'slack.wat' });
    const r = compileIR(ir);
    const byFunc = (name: string) => r.program.experts.find((e) => e.func === name)!.graph;
    const small = (name: string) => byFunc(name).nodes.some((n) => n.role.endsWith('.bits_n3'));
    expect(small('f'), 'f: the xor has slack').toBe(true);
    expect(small('g'), 'g: the xor is the whole step').toBe(false);
    // every node's latest point is no earlier than its own, of its kind, and all nodes there is a valid schedule
    for (const e of r.program.experts) {
      const sched = schedule(e.graph);
      const late = latestPoints(e.graph, sched.layers);
      const def = new Map<number, number>();
      for (const v of e.graph.embed) def.set(v, -1);
      e.graph.nodes.forEach((n, i) => {
        expect(late[i]).toBeGreaterThanOrEqual(sched.nodePoint[i]);
        expect(((late[i] % 2) + 2) % 2).toBe(n.kind === 'attn' ? 0 : 1);
        for (const v of nodeInputs(n)) expect(def.get(v)!, `${n.role} reads v${v} before it is defined`).toBeLessThan(late[i]);
        for (const v of n.outputs) def.set(v, late[i]);
      });
      expect(Math.max(...late)).toBeLessThan(2 * sched.layers);
    }
    const m = await compile(SLACK, { filename: 'slack.wat' });
    const model = await TransformerModel.load(m.onnx);
    const res = await checkProgram(model, m.ir, m.wasm, { cases: 40, seed: 3, extraArgs: { f: [[1, 2, 0], [-1, 0x12345678, 3], [7, 7, 65535], [0, 0, 65536]] } });
    expect(res.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args.join(', ')}): ${c.reason}`)).toEqual([]);
    expect(res.passed).toBeGreaterThanOrEqual(80);
  });
});
