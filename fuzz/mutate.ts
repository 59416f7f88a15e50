// fuzz/mutate.ts — fuzz inputs for `compile`: mutated sample modules (binary and text) and random bytes.
//
// Deterministic for a seed: input i of seed s is the same on every machine. Binary mutations are
// the classic byte-level ones (flip a bit, set a byte to an interesting value — LEB128
// continuation bytes, 0x7f, 0xff, 0 — insert, delete, duplicate or truncate a run); text
// mutations delete, duplicate or swap tokens of a sample's WAT. Random inputs are raw bytes,
// sometimes behind a valid `\0asm` header so they reach section decoding.

import { prng } from '../harness/check.js';

export interface FuzzInput {
  /** How it was made, e.g. "sum_to_n.wasm: flip bit 3 at 0x1a". */
  origin: string;
  filename: string;
  bytes: Uint8Array;
}

export interface Sample {
  name: string; // e.g. "fib.wasm"
  bytes: Uint8Array;
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x20, 0x41];
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

type Rand = () => number;
const below = (r: Rand, n: number) => (n <= 0 ? 0 : r() % n);
const hex = (n: number) => `0x${n.toString(16)}`;

/** One byte-level mutation of `b`; returns the new bytes and what was done. */
export function mutateBytes(b: Uint8Array, r: Rand): [Uint8Array, string] {
  const at = below(r, b.length);
  const out = Array.from(b);
  switch (below(r, 7)) {
    case 0: {
      const bit = below(r, 8);
      out[at] ^= 1 << bit;
      return [Uint8Array.from(out), `flip bit ${bit} at ${hex(at)}`];
    }
    case 1: {
      const v = INTERESTING[below(r, INTERESTING.length)];
      out[at] = v;
      return [Uint8Array.from(out), `set ${hex(at)} to ${hex(v)}`];
    }
    case 2: {
      const v = below(r, 256);
      out.splice(at, 0, v);
      return [Uint8Array.from(out), `insert ${hex(v)} at ${hex(at)}`];
    }
    case 3: {
      const n = 1 + below(r, 4);
      out.splice(at, n);
      return [Uint8Array.from(out), `delete ${n} at ${hex(at)}`];
    }
    case 4: {
      const n = 1 + below(r, 16);
      out.splice(at, 0, ...out.slice(at, at + n));
      return [Uint8Array.from(out), `duplicate ${n} at ${hex(at)}`];
    }
    case 5:
      return [Uint8Array.from(out.slice(0, at)), `truncate at ${hex(at)}`];
    default: {
      const v = below(r, 256);
      out[at] = v;
      return [Uint8Array.from(out), `set ${hex(at)} to ${hex(v)}`];
    }
  }
}

/** One token-level mutation of WAT text. */
export function mutateText(text: string, r: Rand): [string, string] {
  const tokens = text.match(/\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+|\s+/g) ?? [];
  const at = below(r, tokens.length);
  const other = below(r, tokens.length);
  switch (below(r, 3)) {
    case 0:
      tokens.splice(at, 1);
      return [tokens.join(''), `delete token ${at}`];
    case 1:
      tokens.splice(at, 0, tokens[other] ?? '', ' ');
      return [tokens.join(''), `copy token ${other} to ${at}`];
    default:
      [tokens[at], tokens[other]] = [tokens[other], tokens[at]];
      return [tokens.join(''), `swap tokens ${at} and ${other}`];
  }
}

/** The `count` inputs of `seed`: 60% mutated binaries, 20% mutated WAT, 20% random bytes. */
export function* fuzzInputs(seed: number, count: number, binaries: readonly Sample[], texts: readonly Sample[]): Generator<FuzzInput> {
  for (let i = 0; i < count; i++) {
    const r = prng((seed * 1_000_003 + i) >>> 0);
    const kind = below(r, 10);
    if (kind < 6 && binaries.length) {
      const s = binaries[below(r, binaries.length)];
      let bytes = s.bytes;
      const steps: string[] = [];
      for (let k = 1 + below(r, 3); k > 0; k--) {
        const [b, what] = mutateBytes(bytes, r);
        bytes = b;
        steps.push(what);
      }
      yield { origin: `${s.name}: ${steps.join(', ')}`, filename: s.name, bytes };
    } else if (kind < 8 && texts.length) {
      const s = texts[below(r, texts.length)];
      const [text, what] = mutateText(new TextDecoder().decode(s.bytes), r);
      yield { origin: `${s.name}: ${what}`, filename: s.name, bytes: new TextEncoder().encode(text) };
    } else {
      const n = below(r, 64);
      const body = Array.from({ length: n }, () => below(r, 256));
      const withHeader = below(r, 2) === 0;
      yield { origin: `random ${n} bytes${withHeader ? ' after the header' : ''}`, filename: 'random.wasm', bytes: Uint8Array.from(withHeader ? [...HEADER, ...body] : body) };
    }
  }
}
