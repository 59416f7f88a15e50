// frontend/reader.ts — a bounds-checked byte reader for the wasm binary format.
//
// Reads bytes, LEB128 integers and names. Every read past the end of the
// current window (a whole file, a section or a function body) throws a
// CompileError carrying the byte offset, so malformed input never escapes as
// an uncaught RangeError.

import { CompileError } from './errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly what: string,
    readonly func?: string,
  ) {}

  /** A reader over the next `len` bytes; this reader skips past them. */
  sub(len: number, what: string, func?: string): Reader {
    if (len > this.end - this.pos) this.fail(`${what} extends past the end of the ${this.what}`);
    const r = new Reader(this.bytes, this.pos, this.pos + len, what, func);
    this.pos += len;
    return r;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, offset: number = this.pos): never {
    throw new CompileError(`malformed module: ${message}`, {
      ...(this.func !== undefined ? { func: this.func } : {}),
      offset,
    });
  }

  u8(): number {
    if (this.pos >= this.end) this.fail(`unexpected end of ${this.what}`);
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128, at most 32 bits. */
  u32(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && (b & 0x70) !== 0) this.fail('integer too large', start);
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result;
    }
    return this.fail('integer representation too long', start);
  }

  /** Signed LEB128 of at most `bits` bits (32 or 33); returns a JS number. */
  signed(bits: 32 | 33): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (i === 4) this.checkLastSigned(b, bits, start);
        const shift = 7 * (i + 1);
        return (b & 0x40) !== 0 ? result - 2 ** shift : result;
      }
      if (i === 4) break;
    }
    return this.fail('integer representation too long', start);
  }

  private checkLastSigned(b: number, bits: 32 | 33, start: number): void {
    // The 5th byte carries bits 28..34; bits above `bits`-1 must equal the sign.
    const used = bits - 28; // 4 or 5 meaningful bits
    const signBit = (b >> (used - 1)) & 1;
    const rest = (b & 0x7f) >> used;
    const expected = signBit ? (0x7f >> used) : 0;
    if (rest !== expected) this.fail('integer too large', start);
  }

  /** A signed LEB128 of at most 64 bits (i64.const) as two's-complement words [low, high]; V8 checks its last byte. */
  s64Words(): [number, number] {
    const start = this.pos;
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        if ((b & 0x40) !== 0) v -= 1n << BigInt(7 * (i + 1));
        const u = BigInt.asUintN(64, v);
        return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
      }
    }
    return this.fail('integer representation too long', start);
  }

  /** `n` little-endian 32-bit words (the bits of an f32.const or f64.const). */
  words(n: 1 | 2): number[] {
    const b = this.take(4 * n);
    return Array.from({ length: n }, (_, k) => ((b[4 * k] as number) | ((b[4 * k + 1] as number) << 8) | ((b[4 * k + 2] as number) << 16) | ((b[4 * k + 3] as number) << 24)) | 0);
  }

  s32(): number {
    return this.signed(32) | 0;
  }

  take(len: number): Uint8Array {
    if (len > this.end - this.pos) this.fail(`unexpected end of ${this.what}`);
    const out = this.bytes.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  name(): string {
    const start = this.pos;
    const bytes = this.take(this.u32());
    try {
      return UTF8.decode(bytes);
    } catch {
      return this.fail('invalid UTF-8 name', start);
    }
  }
}
