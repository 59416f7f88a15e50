// format/memory.ts — the memory part of the model format: KV-cache row layout and time.
//
// Memory is a KV cache of byte entries. Each row has F features:
//   addr bits α_0..α_{A-1} | sink | pad | epoch bits τ_0..τ_{E-1} | tick | value byte
// (a 'unique' lookup's keys are the first A + 2 features and its value the last one: headWidths;
// the model takes them as two inputs, CACHE_KEYS and CACHE_VALUES)
// The write time of an entry is (epoch, tick): epoch = ⌊step / T⌋ and
// tick = (step mod T)·S + storeIndex, with S = stores-per-step slots and
// T = TICKS / S. The backend writes rows of this shape (data segments, pending rows,
// readout entries); the runtime builds, appends and decodes them. DESIGN.md §5.
// In a step's output rows (`readout.entries`) the pad column carries KEEP instead: 1 for a
// row to append (the runtime sets its pad to 0 first), 0 for a row to drop (an unused
// port, or a store at or after a trap), so unused ports cost no weights.

/** Epoch bits (stage-1 maximises the epoch over 2^EPOCH_BITS values). */
export const EPOCH_BITS = 8;
export const EPOCHS = 2 ** EPOCH_BITS;
/** Ticks per epoch (stage-2 maximises the tick over TICKS values). */
export const TICK_BITS = 16;
export const TICKS = 2 ** TICK_BITS;
/**
 * How a lookup finds the newest write at an address (DESIGN.md §5):
 *  - 'unique' (the default): the cache holds at most one row per address (the runtime replaces
 *    a written address's row in place: eviction is part of the format), so one attention head
 *    per byte picks the address's row, the newest of this step's stores to it, or the sink;
 *  - 'timed': any number of rows per address; two heads per byte find the newest epoch
 *    written there, then the newest tick within it (a cache may then keep superseded rows).
 */
export type LookupKind = 'unique' | 'timed';
export const LOOKUP_KINDS: readonly LookupKind[] = ['unique', 'timed'];

/** Additive score for rows that must never win (padding rows, other heads' pending rows). */
export const NEVER = -(2 ** 60);
export interface MemoryLayout {
  /** Linear memory bytes (accesses at or past this trap). */
  memBytes: number;
  /** Addressable bytes: linear memory, then the call-stack frames (DESIGN.md §10). */
  addrSpace: number;
  addrBits: number; // A
  storeSlots: number; // S: power of two >= max stores in one block
  ticksPerEpochSteps: number; // T = TICKS / S steps per epoch
  maxSteps: number; // EPOCHS * T: longest trace with exact latest-write-wins
  features: number; // F
  /** How lookups resolve several rows of one address (see LookupKind). */
  lookup: LookupKind;
  col: {
    addr: number; // first addr bit
    epoch: number; // first epoch bit
    tick: number;
    value: number;
    sink: number;
    pad: number;
  };
}

export function memoryLayout(memBytes: number, maxStoresPerBlock: number, addrSpace = memBytes, lookup: LookupKind = 'unique'): MemoryLayout {
  const addrBits = Math.max(1, Math.ceil(Math.log2(Math.max(2, addrSpace))));
  let storeSlots = 1;
  while (storeSlots < maxStoresPerBlock) storeSlots *= 2;
  const ticksPerEpochSteps = Math.max(1, TICKS / storeSlots);
  const col = {
    addr: 0,
    sink: addrBits,
    pad: addrBits + 1,
    epoch: addrBits + 2,
    tick: addrBits + 2 + EPOCH_BITS,
    value: addrBits + 3 + EPOCH_BITS,
  };
  return {
    memBytes,
    addrSpace,
    addrBits,
    storeSlots,
    ticksPerEpochSteps,
    maxSteps: EPOCHS * ticksPerEpochSteps - 1,
    features: addrBits + EPOCH_BITS + 4,
    lookup,
    col,
  };
}

/** A lookup head's query width and the row features it reads, [valueStart, valueEnd). */
export interface HeadWidths {
  keys: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * What a lookup head of this layout compares and reads: its query and keys are the first `keys`
 * features of a row, and it returns features [valueStart, valueEnd). A 'unique' lookup scores
 * only the address bits, sink and pad (its query weighs the time features 0) and reads only the
 * value byte, so the attention multiplies A + 2 features a row, then one, instead of F twice
 * (emit_onnx.ts slices them off the cache once a step); a 'timed' one uses all of them (stage 1
 * reads the epoch bits).
 */
export function headWidths(mem: MemoryLayout): HeadWidths {
  return mem.lookup === 'unique' ? { keys: mem.col.pad + 1, valueStart: mem.col.value, valueEnd: mem.col.value + 1 } : { keys: mem.features, valueStart: 0, valueEnd: mem.features };
}

/**
 * The model's two cache inputs (a model with memory; DESIGN.md §5): the rows' key features
 * transposed, [batch, keys, rows], and their value features, [batch, rows, valueEnd − valueStart]
 * (headWidths). The runtime keeps them beside its rows and copies in only the rows a step
 * changed, so no step slices or transposes the whole cache in the graph.
 */
export const CACHE_KEYS = 'cache_keys';
export const CACHE_VALUES = 'cache_values';

/**
 * Writes one row's features into the cache inputs' data at row r of batch row b, for inputs of
 * `rows` rows: its keys into keys [B, K, rows] (transposed), its values into values [B, rows, V].
 */
export function putCacheRow(w: HeadWidths, keys: Float32Array, values: Float32Array, rows: number, b: number, r: number, row: ArrayLike<number>): void {
  const K = w.keys;
  const V = w.valueEnd - w.valueStart;
  const kt = b * K * rows + r;
  for (let j = 0; j < K; j++) keys[kt + j * rows] = row[j] as number;
  const v = (b * rows + r) * V;
  for (let j = 0; j < V; j++) values[v + j] = row[w.valueStart + j] as number;
}

/** The cache inputs' data for rows (each F features), one execution: keys [K, n] and values [n, V]. */
export function cacheInputData(mem: MemoryLayout, rows: ReadonlyArray<ArrayLike<number>>): { keys: Float32Array; values: Float32Array; K: number; V: number } {
  const w = headWidths(mem);
  const K = w.keys;
  const V = w.valueEnd - w.valueStart;
  const keys = new Float32Array(K * rows.length);
  const values = new Float32Array(rows.length * V);
  rows.forEach((row, r) => putCacheRow(w, keys, values, rows.length, 0, r, row));
  return { keys, values, K, V };
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

/** The byte address a cache row is written at. */
export function rowAddress(mem: MemoryLayout, row: ArrayLike<number>, offset = 0): number {
  let addr = 0;
  for (let j = 0; j < mem.addrBits; j++) addr += Math.round(row[offset + mem.col.addr + j]) * 2 ** j;
  return addr;
}

/** A data segment as the layout stores it. */
export interface DataSegment {
  offset: number;
  base64: string;
}

export function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Initial cache rows: the sink row, then one row per non-zero data byte (later segments win). */
export function initialRows(mem: MemoryLayout, data: readonly DataSegment[]): Float32Array[] {
  const image = new Map<number, number>();
  for (const seg of data) decodeBase64(seg.base64).forEach((b, i) => image.set(seg.offset + i, b));
  const rows = [sinkRow(mem)];
  for (const [addr, b] of [...image.entries()].sort((x, y) => x[0] - y[0])) if (b !== 0) rows.push(entryRow(mem, addr, 0, 0, b));
  return rows;
}

/** Decodes `count` cache rows (flat, F features each) into memory bytes: latest write wins. */
export function decodeRows(mem: MemoryLayout, rows: Float32Array, count: number): Uint8Array {
  const out = new Uint8Array(mem.memBytes);
  const F = mem.features;
  const order: Array<[number, number, number, number]> = [];
  for (let r = 0; r < count; r++) {
    const o = r * F;
    if (rows[o + mem.col.sink] > 0.5 || rows[o + mem.col.pad] > 0.5) continue;
    let epoch = 0;
    for (let j = 0; j < EPOCH_BITS; j++) epoch += Math.round(rows[o + mem.col.epoch + j]) << j;
    order.push([epoch, rows[o + mem.col.tick], rowAddress(mem, rows, o), rows[o + mem.col.value]]);
  }
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [, , addr, v] of order) if (addr < out.length) out[addr] = Math.round(v);
  return out;
}

/** Whether a step's output row is to be appended (see KEEP above). */
export function keepsRow(mem: MemoryLayout, rows: Float32Array, offset: number): boolean {
  return rows[offset + mem.col.pad] > 0.5;
}
