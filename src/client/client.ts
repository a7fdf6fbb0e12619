/**
 * The user's handle on a cluster: submit functions, build and run graphs,
 * move data, wait for results.
 *
 * @example
 * ```ts
 * import { Client } from "shoal";
 * import { inc } from "./tasks.ts";
 * const client = await Client.connect();          // local cluster, one worker per core
 * const futures = client.map(inc, [1, 2, 3]);
 * console.log(await client.gather(futures));      // [2, 3, 4]
 * await client.close();
 * ```
 */
import { randomUUID } from "node:crypto";
import { isMainThread } from "node:worker_threads";
import { Comm, connect, PACKET_WEIGHT, tlsFromEnv, type Message, type TlsOptions } from "../comm/index.ts";
import { bundles, prepareShipping, shipFunction } from "../code/ship.ts";
import { Delayed, collectGraph, type LazyArgs } from "../graph/delayed.ts";
import { orderGraph } from "../graph/order.ts";
import { replaceKeyed, TASK_KEY } from "../graph/refs.ts";
import { functionArgs, makeTask, randomToken, specPayload, taskName, type TaskDef } from "../graph/task.ts";
import { Accepts, Op, type ErrorRecord, type TaskMsg } from "../protocol/messages.ts";
import { fetchData } from "../worker/data-plane.ts";
import { deserialize, serialize, type Payload, type Wire } from "../protocol/serialize.ts";
import { asPayload } from "../protocol/wire.ts";
import { VERSION } from "../version.ts";
import { FetchError, SchedulerLostError } from "./errors.ts";
import { ShoalError } from "../utils/errors.ts";
import { Future, KeyState, type FutureOwner } from "./future.ts";
import { LocalCluster, type LocalClusterOptions } from "./local-cluster.ts";

/** Tasks per `update-graph` message: larger graphs go in parts of this size. */
export const GRAPH_PART = 5_000;

export interface ClientOptions {
  /** Scheduler address; default `SHOAL_SCHEDULER_ADDRESS`, else a new LocalCluster. */
  address?: string;
  /** Options of the LocalCluster started when no address is given. */
  cluster?: LocalClusterOptions;
  token?: string;
  tls?: Partial<TlsOptions>;
  /** Milliseconds to wait for the scheduler connection. */
  timeout?: number;
  /**
   * Milliseconds that fetching finished results from workers may fail
   * without progress before `gather`/`result` give up with a `FetchError`
   * (retries back off exponentially, 50 ms to 2 s). Default 60,000: longer
   * than the scheduler's default worker TTL (30 s), so a worker that went
   * silent is removed and its results recomputed before the client gives up.
   */
  fetchTimeout?: number;
}

/** A cluster object `Client.connect` accepts (LocalCluster, SlurmCluster, ...): its scheduler's address and token. */
export interface ClusterLike {
  readonly schedulerAddress: string;
  readonly token?: string | undefined;
}

/** Default of {@link ClientOptions.fetchTimeout}. */
const FETCH_TIMEOUT_MS = 60_000;

export interface SubmitOptions {
  /** Explicit key (default: `<function name>-<random token>`). */
  key?: string;
  /** Group name used in keys and the dashboard (default: the function's name). */
  name?: string;
  /** Deaths of workers running this task tolerated before it fails (default 3). */
  allowedFailures?: number;
  /** Times to rerun the task if it throws (default 0). */
  retries?: number;
}

export { asCompleted, wait, type ReturnWhen } from "./waiting.ts";

const registry = new FinalizationRegistry<{ client: WeakRef<Client>; state: KeyState }>((held) => {
  held.client.deref()?.releaseKeyState(held.state);
});

/** The most recently connected client that is still open (see {@link Client.current}). */
let currentClient: Client | null = null;

export class Client implements FutureOwner {
  readonly id = `client-${randomUUID()}`;
  private readonly keys = new Map<string, KeyState>();
  private readonly uploaded = new Set<string>();
  /** One weak reference to this client for all its futures' finalizers (not one per future). */
  private readonly weakSelf = new WeakRef(this);
  private readonly workerComms = new Map<string, Promise<Comm>>();
  private releaseQueue: string[] = [];
  private closed = false;
  private lostError: Error | null = null;
  private readonly fetchTimeoutMs: number;

  private constructor(
    private readonly comm: Comm,
    readonly address: string,
    private readonly cluster: LocalCluster | null,
    private readonly opts: ClientOptions,
  ) {
    this.fetchTimeoutMs = opts.fetchTimeout ?? FETCH_TIMEOUT_MS;
    comm.onMessage((m) => this.onMessage(m));
    comm.onClose(() => this.onSchedulerLost());
    // the link holds the process open only while a request or an awaited
    // result is pending; a script that never calls close() still exits, and
    // the beforeExit hook below closes the client (and its local cluster)
    comm.unref();
    openClients.add(this);
    installBeforeExit();
  }

  /**
   * Connects to a scheduler, or starts a local cluster when no address is
   * given and `SHOAL_SCHEDULER_ADDRESS` is unset.
   */
  static async connect(addressOrOptions?: string | ClientOptions | ClusterLike): Promise<Client> {
    if (typeof addressOrOptions === "object" && "schedulerAddress" in addressOrOptions) {
      // a cluster object, as Dask's `Client(cluster)`: the client does not own it
      const c = addressOrOptions;
      return Client.connect({ address: c.schedulerAddress, ...(c.token !== undefined ? { token: c.token } : {}) });
    }
    const opts: ClientOptions = typeof addressOrOptions === "string" ? { address: addressOrOptions } : { ...(addressOrOptions ?? {}) };
    if (opts.fetchTimeout !== undefined && !(Number.isFinite(opts.fetchTimeout) && opts.fetchTimeout > 0)) {
      throw new RangeError(`options.fetchTimeout must be a positive number of milliseconds, got ${String(opts.fetchTimeout)}`);
    }
    const address = opts.address ?? process.env["SHOAL_SCHEDULER_ADDRESS"] ?? undefined;
    const token = opts.token ?? process.env["SHOAL_TOKEN"];
    if (token !== undefined) opts.token = token;
    if (!opts.tls) {
      // SHOAL_TLS_CA/CERT/KEY: a tls:// scheduler reached from the environment alone
      const fromEnv = tlsFromEnv();
      if (fromEnv) opts.tls = fromEnv;
    }
    let cluster: LocalCluster | null = null;
    let target = address;
    if (target === undefined || target === "") {
      if (!isMainThread && process.env["SHOAL_IN_TASK"] === "1") {
        throw new Error(
          "Client.connect() without an address was called inside a task thread, most likely because a module that starts a cluster at import time was sent to workers. Guard your script's entry point: `if (isMain(import.meta)) await main();`",
        );
      }
      cluster = await LocalCluster.start({ ...(opts.cluster ?? {}), ...(token !== undefined ? { token } : {}) });
      target = cluster.schedulerAddress;
    }
    try {
      const connecting = connect(target, { timeoutMs: opts.timeout ?? 10_000, ...(opts.tls ? { tls: opts.tls } : {}), token, role: "client", accepts: Accepts.clientFromScheduler });
      // while the handshake and the workers' start-up are under way: the
      // inspector's script table, and the entry script's bundle in the background
      void prepareShipping();
      const comm = await connecting;
      const client = new Client(comm, target, cluster, opts);
      const reply = await comm.request({ op: Op.registerClient, id: client.id, version: VERSION }, opts.timeout ?? 10_000);
      if (reply["status"] !== "ok") {
        comm.close();
        throw new SchedulerLostError(`scheduler ${target} refused the connection: ${String(reply["message"])}`, { address: target });
      }
      if (cluster) await cluster.waitForWorkers();
      currentClient = client;
      return client;
    } catch (err) {
      await cluster?.close();
      throw err;
    }
  }

  /** The most recently connected client that is still open, or null (collections use it as their default). */
  static current(): Client | null {
    return currentClient;
  }

  /** The LocalCluster this client started, if any. */
  get localCluster(): LocalCluster | null {
    return this.cluster;
  }

  /** URL of the local cluster's dashboard (null for a remote scheduler: see `schedulerInfo().services.dashboard`). */
  get dashboardLink(): string | null {
    return this.cluster?.dashboardUrl ?? null;
  }

  // ---------------------------------------------------------------- submit

  /** Runs `fn(...args)` on a worker. Futures and Delayed values in `args` become dependencies. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: LazyArgs<A>): Future<Wire<Awaited<R>>> {
    return this.submitWith({}, fn, ...(args as unknown[] as A));
  }

  /** `submit` with options (key, retries, allowedFailures). */
  submitWith<A extends unknown[], R>(opts: SubmitOptions, fn: (...args: A) => R, ...args: LazyArgs<A>): Future<Wire<Awaited<R>>> {
    this.checkOpen();
    const shipped = shipFunction(fn as (...a: never[]) => unknown);
    const name = taskName(opts.name ?? fn.name);
    const key = opts.key ?? `${name}-${randomToken()}`;
    const extra = new Map<string, TaskDef>();
    const code = new Set(shipped.code);
    const replaced = this.replaceArgs(args, extra, code);
    const t = makeTask(key, shipped.ref, replaced, [...code]);
    this.sendGraph([...extra.values(), t], [key], opts);
    return this.futureFor(key);
  }

  /** Runs `fn(item)` for every item; one task per item. */
  map<T, R>(fn: (item: T, ...rest: never[]) => R, items: Iterable<T>, opts: SubmitOptions = {}): Future<Wire<Awaited<R>>>[] {
    this.checkOpen();
    const shipped = shipFunction(fn as (...a: never[]) => unknown);
    const name = taskName(opts.name ?? fn.name);
    const batch = randomToken();
    const tasks: TaskDef[] = [];
    const extra = new Map<string, TaskDef>();
    const code = new Set(shipped.code);
    let i = 0;
    for (const item of items) {
      const key = `${name}-${batch}${(i++).toString(36).padStart(5, "0")}`;
      const args = this.replaceArgs([item], extra, code);
      tasks.push(makeTask(key, shipped.ref, args, code.size === shipped.code.length ? shipped.code : [...code]));
    }
    this.sendGraph([...extra.values(), ...tasks], tasks.map((t) => t.key), opts);
    return tasks.map((t) => this.futureFor<Wire<Awaited<R>>>(t.key));
  }

  /** Starts computing Delayed values and returns Futures for them. */
  persist<T>(values: Delayed<T>[]): Future<T>[] {
    this.checkOpen();
    const { tasks } = collectGraph(values);
    this.sendGraph([...tasks.values()], values.map((v) => v.key), {});
    return values.map((v) => this.futureFor<T>(v.key));
  }

  /** Computes Delayed values (sharing common subgraphs) and returns their results. */
  async compute<T extends readonly unknown[]>(...values: { [K in keyof T]: Delayed<T[K]> }): Promise<T> {
    const futures = this.persist(values as unknown as Delayed[]);
    try {
      return (await this.gather(futures)) as unknown as T;
    } finally {
      for (const f of futures) f.release();
    }
  }

  /** Sends local data to workers; returns Futures that tasks can take as arguments. */
  async scatter<T>(data: T[], opts?: { broadcast?: boolean }): Promise<Future<T>[]>;
  async scatter<T>(data: T, opts?: { broadcast?: boolean }): Promise<Future<T>>;
  async scatter(data: unknown, opts: { broadcast?: boolean } = {}): Promise<Future | Future[]> {
    this.checkOpen();
    const items = Array.isArray(data) ? data : [data];
    const payloads: Record<string, Payload> = {};
    const keys: string[] = [];
    const token = randomToken();
    items.forEach((v, i) => {
      const key = `scatter-${token}${i.toString(36).padStart(5, "0")}`;
      keys.push(key);
      payloads[key] = asPayload(serialize(v));
    });
    const reply = await this.comm.request({ op: Op.scatter, data: payloads, broadcast: opts.broadcast === true });
    if (reply["status"] !== "ok") throw new Error(`scatter failed: ${String(reply["message"])}`);
    const futures = keys.map((k) => this.futureFor(k));
    return Array.isArray(data) ? futures : futures[0]!;
  }

  // ---------------------------------------------------------------- results

  /** Waits for all futures and returns their values (throws the first task error). */
  async gather<T>(futures: readonly Future<T>[], opts: { errors?: "raise" | "skip" } = {}): Promise<T[]> {
    await Promise.all(futures.map((f) => f.state.done()));
    const out: T[] = [];
    const remote: KeyState[] = [];
    for (const f of futures) {
      if (f.state.status !== "finished") {
        if (opts.errors === "skip") continue;
        throw f.state.toError();
      }
      if (!f.state.inline) remote.push(f.state);
    }
    if (remote.length > 0) await this.fetchMany(remote);
    for (const f of futures) {
      if (f.state.status !== "finished") continue;
      out.push((await this.fetchResult(f.state)) as T);
    }
    return out;
  }

  /** Cancels futures: queued or running tasks stop being needed, results are freed. */
  async cancel(futures: Future[]): Promise<void> {
    const keys = futures.map((f) => f.key);
    this.comm.send({ op: Op.cancelKeys, keys });
    for (const f of futures) if (f.state.status === "pending") f.state.settle("cancelled");
  }

  /**
   * Cluster description: workers with their threads, memory and tasks, and
   * the scheduler's event-loop stalls (`loop`: the longest and how many
   * passed 100 ms, since it started or since the last call with
   * `{ resetLoopStats: true }`).
   */
  async schedulerInfo(opts: { resetLoopStats?: boolean } = {}): Promise<{
    id: string;
    address: string;
    workers: Record<string, { name: string; nthreads: number; memoryLimit: number; host: string; pid: number; nbytes: number; processing: number; status: string; metrics: Record<string, number> }>;
    tasks: number;
    services: Record<string, string>;
    loop: { maxStallMs: number; stallsOver100ms: number; since: number };
  }> {
    const r = await this.comm.request({ op: Op.identity, ...(opts.resetLoopStats ? { resetLoopStats: true } : {}) });
    return r["info"] as never;
  }

  /**
   * The scheduler's logged transitions of these tasks, oldest first (Dask's
   * `client.story`): `[key, from, to, stimulusId, time in seconds]`. The
   * stimulus ids connect them to the worker's own log (`task-finished`
   * carries the worker's id). Bounded by `SchedulerConfig.transitionLogSize`.
   *
   * @example
   * ```ts
   * for (const [key, from, to, why] of await client.story(future)) console.log(key, from, "->", to, why);
   * ```
   */
  async story(...keysOrFutures: (string | Future)[]): Promise<[key: string, from: string, to: string, stimulusId: string, time: number][]> {
    const keys = keysOrFutures.map((k) => (typeof k === "string" ? k : k.key));
    const r = await this.comm.request({ op: Op.story, keys });
    return (r["story"] ?? []) as [string, string, string, string, number][];
  }

  /** Waits until at least `n` workers are connected. */
  async waitForWorkers(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.schedulerInfo();
      if (Object.keys(info.workers).length >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${Object.keys(info.workers).length} of ${n} workers connected after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** @internal */
  async fetchResult(state: KeyState): Promise<unknown> {
    if (state.inline) return deserialize(state.inline);
    await this.fetchMany([state]);
    if (!state.inline) throw new Error(`could not fetch the result of ${state.key}`);
    const v = deserialize(state.inline);
    return v;
  }

  /**
   * Gets the values of finished keys that did not arrive inline: asks the
   * scheduler where they are, fetches them from their holders (one request
   * per holder), and waits for keys that are being recomputed. A failed
   * fetch (holder unreachable, or it says it lacks the key) is retried with
   * exponential backoff and jitter, on another holder where there is one,
   * until `fetchTimeout` ms pass without any progress; then a
   * {@link FetchError} names the keys, the holders tried and the last error.
   * Time spent waiting for a recomputation does not count: that is progress
   * the scheduler makes.
   */
  private async fetchMany(states: KeyState[]): Promise<void> {
    const timeoutMs = this.fetchTimeoutMs;
    let deadline = Date.now() + timeoutMs;
    let backoff = 0;
    let lastError: unknown;
    const tried = new Set<string>();
    /** Holders that failed to deliver a key; another holder is preferred next time. */
    const failedOn = new Map<KeyState, Set<string>>();
    for (;;) {
      const bad = states.find((s) => s.status === "error" || s.status === "cancelled" || s.status === "lost");
      if (bad) throw bad.toError();
      const recomputing = states.filter((s) => s.status === "pending");
      if (recomputing.length > 0) {
        await Promise.all(recomputing.map((s) => s.done()));
        deadline = Date.now() + timeoutMs;
        backoff = 0;
        continue;
      }
      const pending = states.filter((s) => !s.inline);
      if (pending.length === 0) return;
      const byWorker = await this.locate(pending, failedOn);
      let progress = false;
      let refused: ShoalError | undefined;
      await Promise.all(
        [...byWorker].map(async ([w, list]) => {
          tried.add(w);
          try {
            const r = await fetchData(await this.worker(w), list.map((s) => s.key), timeoutMs);
            for (const s of list) {
              const p = r.data.get(s.key);
              if (p) {
                s.inline = p;
                progress = true;
              } else {
                failed(s, w);
                lastError = new Error(`worker ${w} does not have ${s.key}`);
              }
            }
          } catch (err) {
            this.workerComms.delete(w);
            for (const s of list) failed(s, w);
            lastError = err;
            // a refused token or another protocol version: asking again will not help
            if (err instanceof ShoalError && !err.retriable) refused = err;
          }
        }),
      );
      if (refused !== undefined) throw new FetchError(pending.map((s) => s.key), [...tried], timeoutMs, { cause: refused });
      if (progress) {
        deadline = Date.now() + timeoutMs;
        backoff = 0;
      }
      const still = states.filter((s) => !s.inline && s.status === "finished");
      if (still.length === 0) continue;
      const now = Date.now();
      if (now >= deadline) throw new FetchError(still.map((s) => s.key), [...tried], timeoutMs, lastError === undefined ? {} : { cause: lastError });
      backoff = backoff === 0 ? 50 : Math.min(2_000, backoff * 2);
      const sleep = Math.min(deadline - now, backoff / 2 + (Math.random() * backoff) / 2);
      await new Promise((r) => setTimeout(r, sleep));
    }

    function failed(s: KeyState, w: string): void {
      const set = failedOn.get(s) ?? new Set<string>();
      set.add(w);
      failedOn.set(s, set);
    }
  }

  /**
   * Asks the scheduler about keys whose values are not here yet: takes inline
   * values and errors as they come, resets keys being recomputed (their
   * announcement will come), and groups the rest by the holder to fetch
   * from (a random holder, preferring one that has not failed for the key).
   */
  private async locate(pending: KeyState[], failedOn: ReadonlyMap<KeyState, ReadonlySet<string>>): Promise<Map<string, KeyState[]>> {
    const loc = await this.comm.request({ op: Op.gather, keys: pending.map((s) => s.key) });
    const inline = (loc["inline"] ?? {}) as Record<string, Payload>;
    const whoHas = (loc["whoHas"] ?? {}) as Record<string, string[]>;
    const erred = (loc["erred"] ?? {}) as Record<string, ErrorRecord>;
    const byWorker = new Map<string, KeyState[]>();
    for (const s of pending) {
      const holders = whoHas[s.key] ?? [];
      if (inline[s.key]) {
        s.inline = asPayload(inline[s.key]!);
      } else if (erred[s.key]) {
        s.error = erred[s.key]!;
        s.settle("error");
      } else if (holders.length > 0) {
        const failed = failedOn.get(s);
        const fresh = failed ? holders.filter((h) => !failed.has(h)) : holders;
        const from = fresh.length > 0 ? fresh : holders;
        const w = from[Math.floor(Math.random() * from.length)]!;
        const list = byWorker.get(w) ?? [];
        list.push(s);
        byWorker.set(w, list);
      } else {
        // lost and being recomputed: wait for the scheduler to announce it again
        s.reset();
      }
    }
    return byWorker;
  }

  private worker(address: string): Promise<Comm> {
    let p = this.workerComms.get(address);
    if (!p) {
      p = connect(address, { timeoutMs: Math.min(5_000, this.fetchTimeoutMs), ...(this.opts.tls ? { tls: this.opts.tls } : {}), token: this.opts.token, role: "client" });
      p.then(
        (c) => {
          c.unref();
          c.onClose(() => this.workerComms.delete(address));
        },
        () => this.workerComms.delete(address),
      );
      this.workerComms.set(address, p);
    }
    return p;
  }

  // ----------------------------------------------------------------- plumbing

  private replaceArgs(args: unknown[], extra: Map<string, TaskDef>, code: Set<string>): unknown[] {
    return replaceKeyed(
      args,
      (obj) => {
        if (obj instanceof Delayed) {
          for (const [k, t] of collectGraph([obj]).tasks) extra.set(k, t);
        } else if (!(obj instanceof Future)) {
          throw new TypeError(`unsupported keyed argument ${String(obj[TASK_KEY])}`);
        }
      },
      functionArgs(code, shipFunction),
    ) as unknown[];
  }

  /**
   * Keys sent in the current synchronous run (cleared at the next microtask):
   * `progress(df.collect())` evaluates `df.collect()` — which may send its
   * graph at once — before progress() can start watching, and adds these.
   */
  private recentKeys: (readonly { key: string }[])[] = [];

  private noteRecent(tasks: readonly { key: string }[]): void {
    if (this.recentKeys.length === 0) queueMicrotask(() => (this.recentKeys = []));
    this.recentKeys.push(tasks);
  }

  /** The progress watch graphs are tagged with now (see {@link watchProgress}). */
  private progressWatch: string | null = null;

  /**
   * Counts, by task group, every task this client sends from now on (and
   * those it sent in the current synchronous run) until `close()`: what
   * {@link progress} draws for a DataFrame, Bag, array or MRJob computation.
   * @internal
   */
  watchProgress(): { poll(): Promise<{ groups: [string, number, number, number][]; pending: number }>; close(): Promise<void> } {
    this.checkOpen();
    const id = randomToken();
    const previous = this.progressWatch;
    this.progressWatch = id;
    let add: string[] | undefined = this.recentKeys.length > 0 ? this.recentKeys.flatMap((ts) => ts.map((t) => t.key)) : undefined;
    let closed = false;
    return {
      poll: async () => {
        const r = await this.comm.request({ op: Op.progress, watch: id, ...(add ? { add } : {}) });
        add = undefined;
        return { groups: (r["groups"] ?? []) as [string, number, number, number][], pending: Number(r["pending"] ?? 0) };
      },
      close: async () => {
        if (closed) return;
        closed = true;
        if (this.progressWatch === id) this.progressWatch = previous;
        if (!this.closed && !this.comm.isClosed) await this.comm.request({ op: Op.progress, watch: id, close: true }).catch(() => undefined);
      },
    };
  }

  private sendGraph(tasks: TaskDef[], wanted: string[], opts: SubmitOptions): void {
    let seen: readonly string[] | null = null;
    for (const t of tasks) {
      if (t.code === seen) continue; // a map's tasks share one array
      seen = t.code;
      for (const h of t.code) {
        if (this.uploaded.has(h)) continue;
        const code = bundles.get(h);
        if (!code) throw new Error(`code bundle ${h} is not available in this process`);
        this.comm.send({ op: Op.putCode, hash: h, code: asPayload({ header: code, frames: [] }) });
        this.uploaded.add(h);
      }
    }
    // priorities: a depth-first post-order from the wanted keys (deps first); tasks that
    // depend on nothing in this graph (a map) keep their order of submission
    let linked = false;
    for (const t of tasks) if (t.deps.length > 0) linked = true;
    const order = linked ? orderGraph(wanted, new Map(tasks.map((t) => [t.key, t.deps]))) : null;
    const toMsg = (t: TaskDef, i: number): TaskMsg => {
      const m: TaskMsg = { key: t.key, spec: asPayload(specPayload(t)), deps: t.deps, order: order?.get(t.key) ?? i };
      if (opts.allowedFailures !== undefined) m.allowedFailures = opts.allowedFailures;
      if (opts.retries !== undefined) m.retries = opts.retries;
      if (t.code.length > 0) m.code = t.code;
      return m;
    };
    const watch = this.progressWatch;
    const tag = watch !== null ? { progress: watch } : {};
    if (watch === null) this.noteRecent(tasks);
    // keys the client already holds futures for stay referenced while the graph runs
    if (tasks.length <= GRAPH_PART) {
      this.comm.send({ op: Op.updateGraph, tasks: tasks.map(toMsg), keys: wanted, ...tag });
      return;
    }
    // A large graph goes in parts, deps before dependents, one part per packet: the
    // scheduler ingests (and starts) each part between other events, never the whole
    // graph in one pass, and this process serializes each part's specs in the turn that
    // sends it (Comm.sendLazy), not the whole graph inside map()/persist(). The first part
    // is serialized now, so an argument that cannot travel throws at the call as for a
    // small graph; if one in a later part cannot, the graph ends there (an empty last
    // part lets the scheduler go of what it holds) and the futures not sent fail with
    // that error. Messages sent after the graph stay behind it.
    const ordered = order !== null ? [...tasks].sort((a, b) => order.get(a.key)! - order.get(b.key)!) : tasks;
    const want = new Set(wanted);
    const graph = randomToken();
    const build = (from: number): TaskMsg[] => {
      const part = ordered.slice(from, from + GRAPH_PART);
      return part.map((t, j) => toMsg(t, from + j)); // (toMsg takes the order from `order` when the graph has one)
    };
    const first = build(0);
    let failed = false;
    for (let i = 0; i < ordered.length; i += GRAPH_PART) {
      const from = i;
      this.comm.sendLazy(() => {
        if (failed) return null;
        let part: TaskMsg[];
        try {
          part = from === 0 ? first : build(from);
        } catch (err) {
          failed = true;
          const unsent = ordered.slice(from);
          for (const t of unsent) want.delete(t.key);
          const bad = unsent.slice(0, GRAPH_PART).find((t) => !canSerialize(t));
          this.failUnsent(unsent, err, bad?.key ?? unsent[0]!.key);
          // wanted keys outside the graph (known to the scheduler already) are what is left in `want`
          return { op: Op.updateGraph, tasks: [], keys: [...want], graph, more: false, ...tag };
        }
        const keys: string[] = [];
        for (const m of part) if (want.delete(m.key)) keys.push(m.key);
        const more = from + GRAPH_PART < ordered.length;
        if (!more) keys.push(...want); // wanted keys outside the graph (known to the scheduler already)
        return { op: Op.updateGraph, tasks: part, keys, graph, more, ...tag };
      }, PACKET_WEIGHT);
    }
  }

  /** The futures of a large graph's tasks that could not be sent fail with the serialization error. */
  private failUnsent(unsent: readonly TaskDef[], err: unknown, culprit: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    for (const t of unsent) {
      const message = t.key === culprit ? `the arguments of task ${culprit} cannot be sent: ${e.message}` : `not sent: the graph stopped at task ${culprit}, whose arguments cannot be sent: ${e.message}`;
      const st = this.keys.get(t.key);
      if (!st || st.status !== "pending") continue;
      st.error = { name: e.name, message, stack: e.stack ?? "" };
      st.blame = t.key;
      st.settle("error");
    }
  }

  private futureFor<T>(key: string): Future<T> {
    let st = this.keys.get(key);
    if (!st) {
      st = new KeyState(key);
      this.keys.set(key, st);
    }
    const f = new Future<T>(key, st, this);
    registry.register(f, { client: this.weakSelf, state: st }, f);
    return f;
  }

  /** @internal */
  releaseKey(state: KeyState, future: Future): void {
    registry.unregister(future); // released now: its collection later is not a second release
    this.releaseKeyState(state);
  }

  /** @internal called when a Future is released or garbage collected */
  releaseKeyState(state: KeyState): void {
    state.refs -= 1;
    if (state.refs > 0 || this.closed) return;
    if (this.keys.get(state.key) === state) this.keys.delete(state.key);
    this.releaseQueue.push(state.key);
    if (this.releaseQueue.length === 1) {
      setImmediate(() => {
        // a key released and then wanted again before this flush (deterministic keys of a
        // recomputed graph) stays wanted: sending its release after the new update-graph would
        // make the scheduler forget a key the client waits for
        const keys = this.releaseQueue.filter((k) => !this.keys.has(k));
        this.releaseQueue = [];
        // in messages of GRAPH_PART keys, one per packet: releasing a million futures is never one pass
        if (!this.closed) for (let i = 0; i < keys.length; i += GRAPH_PART) this.comm.send({ op: Op.releaseKeys, keys: keys.slice(i, i + GRAPH_PART) }, PACKET_WEIGHT);
      });
    }
  }

  private onMessage(m: Message): void {
    const st = this.keys.get(m["key"] as string);
    if (!st) return;
    switch (m.op) {
      case Op.keyInMemory:
        st.inline = m["inline"] ? asPayload(m["inline"] as Payload) : null;
        st.type = (m["type"] as string) ?? "";
        st.nbytes = (m["nbytes"] as number) ?? -1;
        st.settle("finished");
        break;
      case Op.keyErred:
        st.error = m["error"] as ErrorRecord;
        st.blame = (m["blame"] as string) ?? st.key;
        st.settle("error");
        break;
      case Op.keyCancelled:
        st.settle("cancelled");
        break;
      default:
        break;
    }
  }

  private onSchedulerLost(): void {
    if (this.closed) return;
    this.lostError = new SchedulerLostError(`lost the connection to the scheduler at ${this.address}; pending results cannot arrive. Reconnect with Client.connect().`, { address: this.address });
    for (const st of this.keys.values()) {
      if (st.status === "pending") {
        st.error = { name: "SchedulerLostError", message: this.lostError.message, stack: "" };
        st.settle("lost");
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("this client is closed");
    if (this.lostError) throw this.lostError;
  }

  /** Closes the connection and, if this client started a local cluster, stops it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openClients.delete(this);
    if (currentClient === this) currentClient = null;
    for (const st of this.keys.values()) if (st.status === "pending") st.settle("cancelled");
    if (!this.comm.isClosed) {
      this.comm.send({ op: Op.closeClient });
      this.comm.close();
    }
    for (const p of this.workerComms.values()) p.then((c) => c.close(), () => undefined);
    await this.cluster?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function canSerialize(t: TaskDef): boolean {
  try {
    specPayload(t);
    return true;
  } catch {
    return false;
  }
}

/** Clients of this process not yet closed. */
const openClients = new Set<Client>();
let beforeExitInstalled = false;

/**
 * Once per process: when the event loop runs dry (the program's own work is
 * done) with clients still open, close them, which stops the local clusters
 * they started — Dask's client closes at interpreter exit the same way.
 * Closing is asynchronous; Node emits `beforeExit` again afterwards and the
 * process then ends. Exits by error, signal or `process.exit()` are handled
 * by the LocalCluster's own hooks.
 */
function installBeforeExit(): void {
  if (beforeExitInstalled) return;
  beforeExitInstalled = true;
  process.on("beforeExit", () => {
    for (const c of [...openClients]) void c.close().catch(() => undefined);
  });
}
