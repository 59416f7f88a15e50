// backend/encoding.ts — the number, memory and time encodings (see DESIGN.md).
//
// i32 values: two 16-bit limbs (lo, hi) in two residual slots, value =
// (lo + 65536·hi) mod 2^32. A *canonical* value has both limbs in
// [0, 65535]; lazily added values may carry larger limbs (bounded < 2^24 so
// every intermediate stays an exactly representable float32 integer).
//
// Memory rows and time (the part the runtime shares) live in format/memory.ts and are
// re-exported here. Lookups are two attention stages: stage 1 finds the newest
// epoch written at the address, stage 2 the newest tick within that epoch.

export const LIMB = 65536;
/** Lazily added limbs stay <= this; then canon_lo (<= 15 steps) keeps every sum below 2^24. */
export const MAX_LIMB_BOUND = 2 ** 20 - 1;
/**
 * Lazily added forms keep Σ|term| <= this: every reader adds at most 2^21 of its own
 * (a staircase shift, a gate), and check_magnitudes.ts verifies the total stays below 2^24.
 */
export const MAX_FORM_MAGNITUDE = 2 ** 23;

/** Softmax scale: every score gap we rely on is >= 1 before scaling, so >= 256 after. */
export const BETA = 256;
export * from '../format/memory.js';
export { splitI32, joinI32 } from '../format/token.js';
import { EPOCHS, TICKS } from '../format/memory.js';

/** Stage score multipliers: an address (or epoch) mismatch costs M, more than any time gain. */
export const M1 = 2 * EPOCHS;
export const M2 = 2 * TICKS;
/**
 * Largest address space the exact encoding supports: 256 pages (16 MiB, 24 address bits) for
 * linear memory and call frames together; the page bits come from a clamped staircase
 * (gadgets/memory.ts) and stage 2's scores stay below 2^24 (DESIGN.md §4, §5).
 */
export const MAX_MEMORY_BYTES = 2 ** 24;

