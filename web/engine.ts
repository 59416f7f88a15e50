// web/engine.ts — the demo's machinery, without the page: compile in the browser (in a worker), load the model on
// onnxruntime-web, run it one session.run at a time (Step) or freely (Run), and run the same call
// on the browser's own WebAssembly (harness/io.ts, the I/O convention of format/io.ts).
//
// Stepping needs no hook in the runtime: the runtime takes its ONNX Runtime binding as a parameter
// (runtime/core.ts), and the binding given here wraps each session so that run() first waits on a
// StepGate (released by the Step button, or always open while running freely) and then reports the
// step's token in and token out (the model's input and readout rows) to the page.

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { compile, type CompiledModel } from '../compile.js';
import { CompileError, RunError } from '../format/errors.js';
import { INPUT_ARG, inputImage, parseIoArg, resolveArgs, type IoArg } from '../format/io.js';
import { IoProgram, type IoOutcome } from '../harness/io.js';
import { nativeTrapAgrees } from '../harness/native.js';
import { TransformerModel, type OrtBinding, type Outcome, type TraceEvent } from '../runtime/core.js';
import type { CompileReply, CompileRequest } from './compile_worker.js';

/** Thrown out of a paused or running model when the page stops it (Reset, a new Compile). */
export class Stopped extends Error {
  constructor() {
    super('stopped');
  }
}

/**
 * Holds each session.run until released: step() lets one through, free() all of them (yielding
 * to the page every ~30 ms so it repaints), stop() makes the waiting one and every later one throw.
 */
export class StepGate {
  private waiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private credits = 0;
  private open = false;
  private stopped = false;
  private lastYield = 0;
  /** Called with each step's input token and output token (row 0: the demo runs a batch of one). */
  onStep: ((tokenIn: Float32Array, tokenOut: Float32Array) => void) | null = null;
  /** Called when a step is held (the page shows "paused"). */
  onPause: (() => void) | null = null;

  /** Running freely (not held step by step). */
  get isFree(): boolean {
    return this.open;
  }

  get paused(): boolean {
    return this.waiter !== null;
  }

  async before(): Promise<void> {
    if (this.stopped) throw new Stopped();
    if (this.open) {
      if (performance.now() - this.lastYield > 30) {
        await new Promise((r) => setTimeout(r, 0));
        this.lastYield = performance.now();
        if (this.stopped) throw new Stopped();
      }
      return;
    }
    if (this.credits > 0) {
      this.credits--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.onPause?.();
    });
  }

  step(): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.resolve();
    } else this.credits++;
  }

  free(): void {
    this.open = true;
    this.step();
  }

  stop(): void {
    this.stopped = true;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(new Stopped());
  }
}

/** `ort` with every session's run() held by `gate` and reported to it. */
export function gatedBinding(ort: OrtBinding, gate: () => StepGate): OrtBinding {
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
        const session = await ort.InferenceSession.create(model, options);
        const run = session.run.bind(session) as (feeds: Record<string, Tensor>, fetches?: string[]) => Promise<Record<string, Tensor>>;
        const gatedRun = async (feeds: Record<string, Tensor>, fetches?: string[]): Promise<Record<string, Tensor>> => {
          const g = gate();
          await g.before();
          const out = await run(feeds, fetches);
          // the next token is the first output fetched (readout.next, or an early exit's: runtime/core.ts)
          const next = out[fetches?.[0] ?? 'readout.next'];
          if (next) g.onStep?.(feeds.token.data as Float32Array, next.data as Float32Array);
          return out;
        };
        return new Proxy(session, {
          get(target, key) {
            if (key === 'run') return gatedRun;
            const v = Reflect.get(target, key, target) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    },
  };
}

/** A call as the page states it. */
export interface CallSpec {
  export: string;
  args: IoArg[];
  /** Input text, written with a NUL at __heap_base when given or when an argument is @input. */
  input: string | null;
}

/** Parses the page's argument field: integers (decimal or 0x hex) and @input, space- or comma-separated. */
export function parseArgs(text: string): IoArg[] {
  return text.split(/[\s,]+/).filter(Boolean).map(parseIoArg);
}

function usesInput(call: CallSpec): boolean {
  return call.input !== null || call.args.includes(INPUT_ARG);
}

/** What the page keeps of a compiled model. */
export type WebModel = Pick<CompiledModel, 'onnx' | 'wasm' | 'stats' | 'layout'> & { compiledIn: 'worker' | 'page' };

/** Compiles wasm bytes or WAT text (in a worker, or in the page). */
export type Compiler = (input: Uint8Array | string, filename: string) => Promise<WebModel>;

/** The compiler in the page itself (blocks it while it runs). */
export const compileHere: Compiler = async (input, filename) => ({ ...(await compile(input, { filename })), compiledIn: 'page' });

/**
 * The compiler in a module Web Worker (web/compile_worker.ts at `url`), the page staying
 * responsive; where the worker cannot start, the compiler in the page.
 */
export function workerCompiler(url: URL): Compiler {
  let worker: Worker | null = null;
  let broken = typeof Worker === 'undefined';
  let next = 0;
  const waiting = new Map<number, { resolve: (m: WebModel) => void; reject: (e: Error) => void }>();
  const fail = (why: string) => {
    broken = true;
    worker?.terminate();
    worker = null;
    for (const w of waiting.values()) w.reject(new WorkerFailed(why));
    waiting.clear();
  };
  const start = (): Worker => {
    const w = new Worker(url, { type: 'module' });
    w.onmessage = (e: MessageEvent<CompileReply>) => {
      const r = e.data;
      const p = waiting.get(r.id);
      if (!p) return;
      waiting.delete(r.id);
      if (r.ok) p.resolve({ onnx: r.onnx, wasm: r.wasm, stats: r.stats, layout: r.layout, compiledIn: 'worker' });
      else p.reject(new CompileError(r.message));
    };
    w.onerror = (e) => {
      e.preventDefault();
      fail(e.message || 'the compile worker failed to start');
    };
    return w;
  };
  return async (input, filename) => {
    if (!broken) {
      try {
        worker ??= start();
        const id = next++;
        const w = worker;
        return await new Promise<WebModel>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          const copy = typeof input === 'string' ? input : input.slice();
          w.postMessage({ id, input: copy, filename } satisfies CompileRequest, typeof copy === 'string' ? [] : [copy.buffer]);
        });
      } catch (e) {
        if (!(e instanceof WorkerFailed)) throw e;
      }
    }
    return compileHere(input, filename);
  };
}

class WorkerFailed extends Error {}

export interface Compiled {
  model: WebModel;
  transformer: TransformerModel;
  native: IoProgram;
  provider: string;
  compileMs: number;
  loadMs: number;
}

/**
 * Compiles (with `compiler`) and loads the model with each provider in turn until one can (the
 * first is the one asked for; 'wasm' always can), and the module natively.
 */
export async function compileAndLoad(input: Uint8Array | string, filename: string, compiler: Compiler, providers: Array<{ provider: string; ort: () => Promise<OrtBinding> }>, onRefused: (provider: string, why: string) => void): Promise<Compiled> {
  const t0 = performance.now();
  const model = await compiler(input, filename);
  const t1 = performance.now();
  for (const [i, p] of providers.entries()) {
    try {
      const transformer = await TransformerModel.load(model.onnx, { ort: await p.ort(), provider: p.provider });
      const t2 = performance.now();
      const native = await IoProgram.compile(model.wasm);
      return { model, transformer, native, provider: p.provider, compileMs: t1 - t0, loadMs: t2 - t1 };
    } catch (e) {
      if (i === providers.length - 1 || !(e instanceof RunError) || !/ONNX Runtime could not load/.test(e.message)) throw e;
      onRefused(p.provider, e.message);
    }
  }
  throw new RunError('no execution provider given');
}

export interface TransformerRun {
  outcome: Outcome;
  ms: number;
}

/** Runs the call on the transformer with a fresh memory; the gate decides when each step runs. */
export async function runTransformer(t: TransformerModel, call: CallSpec, hooks: { trace: (ev: TraceEvent) => void; output: (byte: number) => void; maxSteps: number }): Promise<TransformerRun> {
  const mem = t.newMemory();
  const at = t.inputAddress();
  if (usesInput(call)) {
    if (at === null || !t.layout.memory) throw new RunError('this module has no __heap_base export (or no memory) to write the input at');
    mem.write(t.layout.memory, at, inputImage(call.input ?? ''));
  }
  const args = resolveArgs(call.args, at, call.export);
  const t0 = performance.now();
  const [outcome] = await t.runBatch(call.export, [args], [mem], { trace: hooks.trace, onOutput: (_row, b) => hooks.output(b), maxSteps: hooks.maxSteps });
  return { outcome, ms: performance.now() - t0 };
}

/** The same call on the browser's WebAssembly engine. */
export async function runNative(p: IoProgram, call: CallSpec): Promise<IoOutcome> {
  return p.run({ invoke: call.export, args: call.args, input: usesInput(call) ? (call.input ?? '') : undefined });
}

/** Whether the transformer and native agree: results, trap (V8's joint call_indirect message too) and output bytes. */
export function agree(t: Outcome, n: IoOutcome): boolean {
  const trap = t.trap === null || n.trap === null ? t.trap === n.trap : nativeTrapAgrees(n.trap, t.trap);
  return trap && t.results.join() === n.results.join() && t.output.join() === n.output.join();
}
