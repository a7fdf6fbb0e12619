/**
 * Terminal progress bars, one line per task group, for futures and for any
 * running computation (a DataFrame `collect`, a Bag `compute`, an array's
 * `compute`, an MRJob run).
 *
 * On a TTY the bars redraw in place (carriage return and ANSI cursor-up)
 * every `intervalMs` (default 100 ms); elsewhere (CI logs, files, pipes) one
 * summary line is printed every `plainIntervalMs` (default 2 s) when
 * something changed, and once at the end. For futures the bars follow the
 * futures' own state; for a computation the client tags the graphs it sends
 * while the computation runs and polls the scheduler's counts of them
 * (`scheduler/progress.ts`), so intermediate tasks count too.
 */
import { Client } from "../client/client.ts";
import type { Future } from "../client/future.ts";
import { keyPrefix } from "../protocol/keys.ts";

/** What {@link progress} accepts: futures, or a collection that carries them. */
export type ProgressInput = Future | Iterable<Future> | { futures: Iterable<Future> } | { toFutures(): Iterable<Future> };

/** A running computation: its promise, or a function that starts it. */
export type ProgressWork<T> = Promise<T> | (() => Promise<T>);

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
  /** The client whose tasks a computation's bars count (default: the current client). */
  client?: Client;
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

/** One plain-mode line: `progress 4.1s: 6/10 tasks 60% | inc 4/4 | load-csv 2/6 1 erred`. */
export function formatSummary(rows: readonly Row[], elapsed: number, maxWidth = 160): string {
  let done = 0;
  let total = 0;
  let erred = 0;
  for (const r of rows) {
    done += r.done + r.erred;
    erred += r.erred;
    total += r.total;
  }
  const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
  let line = `progress ${formatElapsed(elapsed)}: ${done}/${total} tasks ${pct}%${erred > 0 ? ` (${erred} erred)` : ""}`;
  for (const r of rows) {
    const part = ` | ${r.group} ${r.done + r.erred}/${r.total}${r.erred > 0 ? ` ${r.erred} erred` : ""}`;
    if (line.length + part.length > maxWidth) {
      line += " | …";
      break;
    }
    line += part;
  }
  return line;
}

/** Draws rows until told to stop: TTY bars redrawn in place, or plain summary lines. */
class Drawer {
  private drawnLines = 0;
  private lastPlain = "";
  private readonly started = performance.now();
  readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions["stream"]>;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? this.stream.isTTY === true;
  }

  get elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  draw(rows: readonly Row[], final: boolean): void {
    if (this.tty) {
      if (rows.length === 0) return;
      const nameWidth = Math.min(24, Math.max(4, ...rows.map((r) => r.group.length)));
      const barWidth = this.opts.width ?? Math.max(10, Math.min(40, (this.stream.columns ?? 80) - nameWidth - 30));
      let out = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
      for (const r of rows) out += `\r\x1b[2K${formatBar(r, nameWidth, barWidth, this.elapsed)}\n`;
      this.stream.write(out);
      this.drawnLines = rows.length;
      return;
    }
    // plain: a line when the counts changed (elapsed time alone is no change), and the last one
    const text = formatSummary(rows, this.elapsed);
    const counts = text.replace(/^progress [^:]*: /, "");
    if (counts === this.lastPlain && !(final && this.lastPlain === "")) return;
    this.stream.write(text + "\n");
    this.lastPlain = counts;
  }
}

/**
 * Shows progress bars until the work is done, and resolves as the work
 * does: with the counts per group for futures (never throwing for a failed
 * task: use `gather` or `result()` for values and errors), or with the
 * computation's own value (rejecting with its error) for a computation.
 *
 * @example
 * ```ts
 * import { Client, progress, readCsv } from "shoal";
 * const client = await Client.connect();
 * const futures = client.map(slowInc, range(1000));
 * await progress(futures);            // bars on stderr, one per task group
 * const results = await client.gather(futures);
 * // any computation: pass it (or a function that starts it); the value comes back
 * const counts = await progress(readCsv("questions*.csv").groupBy("OwnerUserId").agg({ n: ["Id", "count"] }).collect());
 * ```
 */
export function progress<T>(work: ProgressWork<T>, opts?: ProgressOptions): Promise<T>;
export function progress(input: ProgressInput, opts?: ProgressOptions): Promise<ProgressSummary>;
export function progress(input: ProgressInput | ProgressWork<unknown>, opts: ProgressOptions = {}): Promise<unknown> {
  if (typeof input === "function" || typeof (input as { then?: unknown }).then === "function") return progressOfWork(input as ProgressWork<unknown>, opts);
  return progressOfFutures(input as ProgressInput, opts);
}

async function progressOfFutures(input: ProgressInput, opts: ProgressOptions): Promise<ProgressSummary> {
  const futures = toFutures(input);
  const drawer = new Drawer(opts);
  const rows = new Map<string, Row>();
  for (const f of futures) {
    const g = keyPrefix(f.key);
    let r = rows.get(g);
    if (!r) rows.set(g, (r = { group: g, done: 0, erred: 0, total: 0 }));
    r.total++;
  }
  const all = [...rows.values()];
  const settled = futures.map((f) =>
    f.wait().then(() => {
      const r = rows.get(keyPrefix(f.key))!;
      if (f.status === "finished") r.done++;
      else r.erred++;
    }),
  );
  drawer.draw(all, false);
  const timer = setInterval(() => drawer.draw(all, false), drawer.tty ? (opts.intervalMs ?? 100) : (opts.plainIntervalMs ?? 2000));
  try {
    await Promise.all(settled);
  } finally {
    clearInterval(timer);
  }
  drawer.draw(all, true);
  return { groups: all.map((r) => ({ ...r })), seconds: drawer.elapsed };
}

async function progressOfWork<T>(work: ProgressWork<T>, opts: ProgressOptions): Promise<T> {
  const client = opts.client ?? Client.current();
  if (client === null) {
    throw new TypeError("progress(computation) needs a client: connect one first (Client.connect()), or pass { client }");
  }
  const watch = client.watchProgress();
  const drawer = new Drawer(opts);
  let rows: Row[] = [];
  let polling: Promise<void> | null = null;
  const poll = (): Promise<void> =>
    (polling ??= watch
      .poll()
      .then(
        (r) => void (rows = r.groups.map(([group, done, erred, total]) => ({ group, done, erred, total }))),
        () => undefined,
      )
      .finally(() => (polling = null)));
  let promise: Promise<T>;
  try {
    promise = typeof work === "function" ? work() : work;
  } catch (err) {
    await watch.close();
    throw err;
  }
  const tick = (): void => void poll().then(() => drawer.draw(rows, false));
  // a TTY redraws at most 5 times a second here: each redraw asks the scheduler
  const timer = setInterval(tick, drawer.tty ? Math.max(200, opts.intervalMs ?? 200) : (opts.plainIntervalMs ?? 2000));
  tick();
  try {
    return await promise;
  } finally {
    clearInterval(timer);
    await polling;
    await poll();
    drawer.draw(rows, true);
    await watch.close();
  }
}
