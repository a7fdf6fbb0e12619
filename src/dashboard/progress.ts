/**
 * Terminal progress bars for futures, one line per task group.
 *
 * On a TTY the bars redraw in place (carriage return and ANSI cursor-up)
 * every `intervalMs` (default 100 ms); elsewhere (CI logs, files, pipes) a
 * plain line per group is printed every `plainIntervalMs` (default 2 s) when
 * something changed, and once at the end. Nothing is sent to the scheduler:
 * the bars follow the futures' own state.
 */
import type { Future } from "../client/future.ts";
import { keyPrefix } from "../protocol/keys.ts";

/** What {@link progress} accepts: futures, or a collection that carries them. */
export type ProgressInput = Future | Iterable<Future> | { futures: Iterable<Future> } | { toFutures(): Iterable<Future> };

export interface ProgressOptions {
  /** Where to draw (default `process.stderr`, as Dask does). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Redraw period on a TTY (default 100 ms). */
  intervalMs?: number;
  /** Period of plain lines when not a TTY (default 2000 ms). */
  plainIntervalMs?: number;
  /** Force TTY or plain mode (default: `stream.isTTY`). */
  tty?: boolean;
  /** Bar width in characters (default: fits the terminal, at most 40). */
  width?: number;
}

/** Final counts per group, as {@link progress} resolves with. */
export interface ProgressSummary {
  groups: { group: string; done: number; erred: number; total: number }[];
  seconds: number;
}

interface Row {
  group: string;
  done: number;
  erred: number;
  total: number;
}

function toFutures(input: ProgressInput): Future[] {
  const x = input as unknown as Record<string, unknown>;
  if (typeof x["key"] === "string" && typeof x["wait"] === "function") return [input as Future];
  if (typeof x["toFutures"] === "function") return [...(input as { toFutures(): Iterable<Future> }).toFutures()];
  if (x["futures"] !== undefined && typeof (x["futures"] as Iterable<Future>)[Symbol.iterator] === "function") return [...(input as { futures: Iterable<Future> }).futures];
  if (typeof (input as Iterable<Future>)[Symbol.iterator] === "function") return [...(input as Iterable<Future>)];
  throw new TypeError("progress() expects a Future, an iterable of Futures, or an object with `futures` or `toFutures()`");
}

/** Formats seconds as `12.3s`, `4m05s` or `1h02m`. */
export function formatElapsed(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One progress line: `[####      ] inc   40/100  40%  1.2s` (plus `3 erred`). */
export function formatBar(r: Row, nameWidth: number, barWidth: number, elapsed: number): string {
  const frac = r.total > 0 ? (r.done + r.erred) / r.total : 1;
  const filled = Math.round(frac * barWidth);
  const bar = "#".repeat(filled) + " ".repeat(Math.max(0, barWidth - filled));
  const count = `${r.done + r.erred}/${r.total}`;
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  const name = r.group.length > nameWidth ? r.group.slice(0, nameWidth - 1) + "…" : r.group.padEnd(nameWidth);
  return `[${bar}] ${name} ${count} ${pct} ${formatElapsed(elapsed)}${r.erred > 0 ? ` ${r.erred} erred` : ""}`;
}

/**
 * Shows progress bars for futures until all of them are done (finished,
 * erred, cancelled or lost). Resolves with the final counts; never throws for
 * a failed task (use `gather` or `result()` for the values and errors).
 *
 * @example
 * ```ts
 * import { Client, progress } from "shoal";
 * const client = await Client.connect();
 * const futures = client.map(slowInc, range(1000));
 * await progress(futures);            // bars on stderr, one per task group
 * const results = await client.gather(futures);
 * ```
 */
export async function progress(input: ProgressInput, opts: ProgressOptions = {}): Promise<ProgressSummary> {
  const futures = toFutures(input);
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const started = performance.now();
  const rows = new Map<string, Row>();
  for (const f of futures) {
    const g = keyPrefix(f.key);
    let r = rows.get(g);
    if (!r) rows.set(g, (r = { group: g, done: 0, erred: 0, total: 0 }));
    r.total++;
  }
  const all = [...rows.values()];
  const nameWidth = Math.min(24, Math.max(4, ...all.map((r) => r.group.length)));
  const barWidth = opts.width ?? Math.max(10, Math.min(40, (stream.columns ?? 80) - nameWidth - 30));
  let drawnLines = 0;
  let changed = true;
  let lastPlain = "";

  const draw = (final: boolean): void => {
    const elapsed = (performance.now() - started) / 1000;
    const lines = all.map((r) => formatBar(r, nameWidth, barWidth, elapsed));
    if (tty) {
      let out = drawnLines > 0 ? `\x1b[${drawnLines}A` : "";
      for (const l of lines) out += `\r\x1b[2K${l}\n`;
      stream.write(out);
      drawnLines = lines.length;
    } else {
      const text = lines.join("\n");
      if (!final && (!changed || text === lastPlain)) return;
      if (final && text === lastPlain) return;
      stream.write(text + "\n");
      lastPlain = text;
    }
    changed = false;
  };

  const settled = futures.map((f) =>
    f.wait().then(() => {
      const r = rows.get(keyPrefix(f.key))!;
      if (f.status === "finished") r.done++;
      else r.erred++;
      changed = true;
    }),
  );
  draw(false);
  const timer = setInterval(() => draw(false), tty ? (opts.intervalMs ?? 100) : (opts.plainIntervalMs ?? 2000));
  try {
    await Promise.all(settled);
  } finally {
    clearInterval(timer);
  }
  changed = true;
  draw(true);
  return { groups: all.map((r) => ({ ...r })), seconds: (performance.now() - started) / 1000 };
}
