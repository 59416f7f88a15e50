// cli/output.ts — where the CLI writes a model: atomically to a regular file or new path, or to stdout (`-o -`).
//
// A model is written to `.NAME.PID.tmp` beside the output and renamed over it, so a reader never
// sees half a model and a failed compile never clobbers an existing one. The temporary file is
// removed on error and on SIGINT/SIGTERM/SIGHUP (the write is asynchronous, so a signal is handled
// mid-write); one left by a process that was killed outright (SIGKILL, power loss) is removed by
// the next write to the same output, once its PID is no longer running. Outputs that are not a
// regular file (a directory, a device node, a FIFO) or that are symbolic links are refused: an
// atomic rename would replace the link or node itself, not write through it.

import { closeSync, lstatSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RunError } from '../format/errors.js';

const pending = new Set<string>();
let handlersInstalled = false;

function removePending(): void {
  for (const f of pending) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
  pending.clear();
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(sig, () => {
      removePending();
      process.exit(code);
    });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary files `.NAME.PID.tmp` of earlier writes to `path` whose process is gone; returns what it removed. */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // not ours to remove, or already gone
    }
  }
  return removed;
}

/** Refuses an output path that is not a regular file or a new path (checked before compiling). */
export function checkOutputPath(path: string, opts: { stdout?: boolean } = {}): void {
  const viaStdout = opts.stdout ?? true; // whether '-o -' is an alternative for this output
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      try {
        if (!lstatSync(dirname(path)).isDirectory()) throw new RunError(`cannot write '${path}': ${dirname(path)} is not a directory`);
      } catch (e2) {
        if (e2 instanceof RunError) throw e2;
        throw new RunError(`cannot write '${path}': no such directory`);
      }
      return;
    }
    if (code === 'ENOTDIR') throw new RunError(`cannot write '${path}': a parent is not a directory`);
    throw new RunError(`cannot write '${path}': ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) throw new RunError(`refusing to write '${path}': it is a symbolic link (give the real path${viaStdout ? ", or '-o -' for standard output" : ''})`);
  if (st.isDirectory()) throw new RunError(`refusing to write '${path}': it is a directory`);
  if (!st.isFile()) throw new RunError(`refusing to write '${path}': it is not a regular file (a device, FIFO or socket)${viaStdout ? "; use '-o -' and redirect" : ''}`);
}

function describeWriteError(path: string, e: unknown): RunError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on the device' : (e as Error).message;
  return new RunError(`cannot write '${path}': ${why}`);
}

/** Writes `data` to `path` atomically (temporary file, then rename). */
export async function writeAtomic(path: string, data: Uint8Array, opts: { stdout?: boolean } = {}): Promise<void> {
  checkOutputPath(path, opts);
  removeStaleTemps(path);
  installSignalHandlers();
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  pending.add(tmp);
  try {
    // created synchronously, so a signal arriving from here on always finds the file to remove
    closeSync(openSync(tmp, 'wx'));
    const fh = await open(tmp, 'r+');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    pending.delete(tmp);
  } catch (e) {
    removePending();
    throw describeWriteError(path, e);
  }
}

/** Writes binary `data` to standard output (`-o -`), refusing a terminal. */
export async function writeStdout(data: Uint8Array): Promise<void> {
  if (process.stdout.isTTY) throw new RunError("refusing to write a binary model to a terminal; redirect standard output (e.g. '-o - > model.onnx')");
  await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(describeWriteError('-', e)) : resolve())));
}
