// backend/encoding.ts — the number, memory and time encodings (see DESIGN.md).
//
// i32 values: two 16-bit limbs (lo, hi) in two residual slots, value =
// (lo + 65536·hi) mod 2^32. A *canonical* value has both limbs in
// [0, 65535]; lazily added values may carry larger limbs (bounded < 2^24 so
// every intermediate stays an exactly representable float32 integer).
//
// Memory: a KV cache of byte entries. Each row has F features:
//   addr bits α_0..α_{A-1} | epoch bits τ_0..τ_{E-1} | tick f2 | value byte | sink | pad
// The write time of an entry is (epoch, tick): epoch = ⌊step / T⌋ and
// tick = (step mod T)·S + storeIndex, with S = stores-per-step slots and
// T = TICKS / S. Lookups are two attention stages: stage 1 finds the newest
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
/** Epoch bits (stage-1 maximises the epoch over 2^EPOCH_BITS values). */
export const EPOCH_BITS = 8;
export const EPOCHS = 2 ** EPOCH_BITS;
/** Ticks per epoch (stage-2 maximises the tick over TICKS values). */
export const TICK_BITS = 16;
export const TICKS = 2 ** TICK_BITS;
/** Stage score multipliers: an address (or epoch) mismatch costs M, more than any time gain. */
export const M1 = 2 * EPOCHS;
export const M2 = 2 * TICKS;
/** Additive score for rows that must never win (padding rows, other heads' pending rows). */
export const NEVER = -(2 ** 60);
/** Largest memory the exact address encoding supports (16 pages = 1 MiB, 20 address bits). */
export const MAX_MEMORY_BYTES = 2 ** 20;

export interface MemoryLayout {
  memBytes: number;
  addrBits: number; // A
  storeSlots: number; // S: power of two >= max stores in one block
  ticksPerEpochSteps: number; // T = TICKS / S steps per epoch
  maxSteps: number; // EPOCHS * T: longest trace with exact latest-write-wins
  features: number; // F
  col: {
    addr: number; // first addr bit
    epoch: number; // first epoch bit
    tick: number;
    value: number;
    sink: number;
    pad: number;
  };
}

export function memoryLayout(memBytes: number, maxStoresPerBlock: number): MemoryLayout {
  const addrBits = Math.max(1, Math.ceil(Math.log2(Math.max(2, memBytes))));
  let storeSlots = 1;
  while (storeSlots < maxStoresPerBlock) storeSlots *= 2;
  const ticksPerEpochSteps = Math.max(1, TICKS / storeSlots);
  const col = {
    addr: 0,
    epoch: addrBits,
    tick: addrBits + EPOCH_BITS,
    value: addrBits + EPOCH_BITS + 1,
    sink: addrBits + EPOCH_BITS + 2,
    pad: addrBits + EPOCH_BITS + 3,
  };
  return {
    memBytes,
    addrBits,
    storeSlots,
    ticksPerEpochSteps,
    maxSteps: EPOCHS * ticksPerEpochSteps - 1,
    features: addrBits + EPOCH_BITS + 4,
    col,
  };
}

/** Position features of step p (p = 0 is the initial memory image; steps start at 1). */
export function timeOf(mem: MemoryLayout, step: number): { epoch: number; tickBase: number } {
  const epoch = Math.floor(step / mem.ticksPerEpochSteps);
  const tickBase = (step % mem.ticksPerEpochSteps) * mem.storeSlots;
  return { epoch, tickBase };
}

/** One cache row (features) for a byte entry. */
export function entryRow(mem: MemoryLayout, addr: number, epoch: number, tick: number, value: number): Float32Array {
  const row = new Float32Array(mem.features);
  for (let j = 0; j < mem.addrBits; j++) row[mem.col.addr + j] = (addr >>> j) & 1;
  for (let j = 0; j < EPOCH_BITS; j++) row[mem.col.epoch + j] = (epoch >>> j) & 1;
  row[mem.col.tick] = tick;
  row[mem.col.value] = value;
  return row;
}

export function sinkRow(mem: MemoryLayout): Float32Array {
  const row = new Float32Array(mem.features);
  row[mem.col.sink] = 1;
  return row;
}

export function padRow(mem: MemoryLayout): Float32Array {
  const row = new Float32Array(mem.features);
  row[mem.col.pad] = 1;
  return row;
}

export function splitI32(v: number): [number, number] {
  const u = v >>> 0;
  return [u & 0xffff, u >>> 16];
}

export function joinI32(lo: number, hi: number): number {
  return ((Math.round(lo) & 0xffff) | ((Math.round(hi) & 0xffff) << 16)) | 0;
}
