// cli/progress.ts — a one-line progress display on a terminal (cases done, rate, ETA); silent elsewhere.
//
// Shown only when the stream is a TTY and the user did not ask for --quiet; redrawn at most ten
// times a second with `\r`, and erased when done, so nothing of it stays in the scrollback or
// reaches a pipe or file.

export interface Progress {
  /** Work done so far, of `total` when known; `unit` names what is counted. */
  update(done: number, total?: number): void;
  /** Erases the line. */
  done(): void;
}

interface Stream {
  isTTY?: boolean;
  write(s: string): boolean;
}

const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(1)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0));
const fmtTime = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.ceil(s)}s`);

/** A progress line on `stream`; `delayMs`: show nothing for work that finishes sooner. */
export function progress(stream: Stream, opts: { unit: string; quiet?: boolean; delayMs?: number; now?: () => number }): Progress {
  const now = opts.now ?? (() => performance.now());
  const enabled = !!stream.isTTY && !opts.quiet;
  const started = now();
  let last = -Infinity;
  let shown = false;
  return {
    update(done, total) {
      if (!enabled) return;
      const t = now();
      if (t - started < (opts.delayMs ?? 0) || t - last < 100) return;
      last = t;
      const secs = (t - started) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const parts = [total !== undefined ? `${done}/${total} ${opts.unit}` : `${done} ${opts.unit}`, `${fmtRate(rate)} ${opts.unit}/s`];
      if (total !== undefined && rate > 0 && done < total) parts.push(`ETA ${fmtTime((total - done) / rate)}`);
      const bar = total ? `[${'#'.repeat(Math.round((done / total) * 20)).padEnd(20, '.')}] ` : '';
      stream.write(`\r\x1b[K${bar}${parts.join(' · ')}`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
