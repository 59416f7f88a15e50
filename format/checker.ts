// format/checker.ts — reads untrusted JSON from a model file field by field: each check names the
// field's path and throws a one-line RunError ("model: layout field 'maxArgs' is 1e9, outside
// [0, 4096]"). The layout (format/layout.ts) and the inspect entry (format/inspect.ts) use it.

import { RunError } from './errors.js';

export class Checker {
  /** what: the file ("model", a path); entry: which metadata entry ("layout", "inspect"). */
  constructor(
    private readonly what: string,
    private readonly entry: string,
  ) {}

  fail(path: string, msg: string): never {
    throw new RunError(`${this.what}: ${this.entry} field '${path}' ${msg}`);
  }

  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    return v as Record<string, unknown>;
  }

  /** An array of at most max entries (exactly len when given). */
  arr(v: unknown, path: string, max: number, len?: number): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    if (v.length > max) this.fail(path, `has ${v.length} entries, more than the limit ${max}`);
    if (len !== undefined && v.length !== len) this.fail(path, `must have ${len} entries, not ${v.length}`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `must be an integer, not ${JSON.stringify(v)?.slice(0, 40)}`);
    if (v < min || v > max) this.fail(path, `is ${v}, outside [${min}, ${max}]`);
    return v;
  }

  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'must be a string');
    return v;
  }

  oneOf<T extends string>(v: unknown, options: readonly T[], path: string): T {
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) this.fail(path, `must be one of ${options.join(', ')}`);
    return v as T;
  }

  same(v: unknown, expected: unknown, path: string): void {
    if (JSON.stringify(v) !== JSON.stringify(expected)) this.fail(path, `is ${JSON.stringify(v)?.slice(0, 80)}, expected ${JSON.stringify(expected)}`);
  }
}
