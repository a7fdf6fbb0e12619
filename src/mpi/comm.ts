/**
 * `Comm`: an mpi4py-shaped communicator over the shared-memory {@link Endpoint}.
 * Lowercase methods move any structured-clonable value (numbers travel inline
 * in the header, the rest through `v8.serialize`); capitalized methods move
 * typed arrays, received in place. Collectives use binomial trees (bcast,
 * reduce), recursive doubling (allreduce, scan, exscan), dissemination
 * (barrier), a ring (allgather) and pairwise exchange (alltoall); gather and
 * scatter are linear at the root, as Open MPI's basic algorithms are.
 */
import { deserialize, serialize } from "node:v8";
import { MpiArgumentError, MpiAbortedError } from "./errors.ts";
import { applyOp, combineInto, isCommutative, type Op } from "./ops.ts";
import { Kind, type Endpoint, type Msg, type RecvReq, type SendReq } from "./transport.ts";

export const ANY_SOURCE = -1;
export const ANY_TAG = -1;
/** Pass as the send buffer of a capitalized collective to use the receive buffer as input (MPI_IN_PLACE). */
export const IN_PLACE = Symbol("MPI_IN_PLACE");

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
type Ctor = { new (n: number): TypedArray; new (b: ArrayBufferLike, o: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };

/** What a receive found: source, tag and size (like mpi4py's `MPI.Status`). */
export class Status {
  source = ANY_SOURCE;
  tag = ANY_TAG;
  /** Bytes of the message. */
  count = 0;
  getSource(): number { return this.source; }
  getTag(): number { return this.tag; }
  /** Elements of `ctor` (bytes when omitted). */
  getCount(ctor?: { BYTES_PER_ELEMENT: number }): number { return ctor ? this.count / ctor.BYTES_PER_ELEMENT : this.count; }
}

/** A nonblocking operation (`isend`/`irecv` and capitalized forms). */
export class Request {
  constructor(
    private readonly comm: Comm,
    private readonly s: SendReq | null,
    private readonly r: RecvReq | null,
    private readonly decode: ((m: Msg) => unknown) | null,
  ) {}
  /** Blocks until done; returns the received value (undefined for sends). */
  async wait(status?: Status): Promise<any> { return this.waitSync(status); }
  waitSync(status?: Status): any {
    const ep = this.comm.ep;
    if (this.s !== null) ep.waitUntil(() => this.s!.done, () => "wait(isend)");
    if (this.r === null) return undefined;
    const r = this.r;
    ep.waitUntil(() => r.done, () => `wait(irecv(source=${srcName(r.src, this.comm)}, tag=${tagName(r.tag)}))`);
    return this.comm.complete(r, status, this.decode);
  }
  /** `[done, value]` without blocking. */
  async test(status?: Status): Promise<[boolean, any]> {
    this.comm.ep.progress();
    const done = (this.s === null || this.s.done) && (this.r === null || this.r.done);
    return done ? [true, this.waitSync(status)] : [false, undefined];
  }
  static async waitall(reqs: Request[], statuses?: Status[]): Promise<any[]> {
    return reqs.map((q, i) => q.waitSync(statuses?.[i]));
  }
}

function srcName(s: number, c: Comm): string { return s === ANY_SOURCE ? "ANY_SOURCE" : String(c.group.indexOf(s)); }
function tagName(t: number): string { return t === ANY_TAG ? "ANY_TAG" : String(t); }

const EMPTY = new Uint8Array(0);
function bytesOf(a: TypedArray): Uint8Array { return new Uint8Array(a.buffer, a.byteOffset, a.byteLength); }
function encode(v: unknown): [number, number, Uint8Array] {
  if (typeof v === "number") return [Kind.number, v, EMPTY];
  const b = serialize(v);
  return [Kind.object, 0, new Uint8Array(b.buffer, b.byteOffset, b.byteLength)];
}
function decodeMsg(m: Msg): unknown {
  if (m.kind === Kind.number) return m.num;
  if (m.kind === Kind.object) return deserialize(m.data);
  return m.data;
}

const T = { bcast: 1, reduce: 2, allreduce: 3, gather: 4, scatter: 5, allgather: 6, alltoall: 7, barrier: 8, scan: 9, exscan: 10, ctx: 11 } as const;

let nextContext = 2;

/** A communicator: a group of ranks and a private context for its messages. */
export class Comm {
  readonly rank: number;
  readonly size: number;
  private readonly p2p: number;
  private readonly coll: number;

  constructor(
    readonly ep: Endpoint,
    /** World ranks of this communicator's members, by local rank. */
    readonly group: number[],
    ctx: number,
    readonly name = "COMM_WORLD",
  ) {
    this.rank = group.indexOf(ep.rank);
    this.size = group.length;
    this.p2p = ctx;
    this.coll = ctx + 1;
  }

  getRank(): number { return this.rank; }
  getSize(): number { return this.size; }

  private world(r: number, call: string, any = false): number {
    if (any && r === ANY_SOURCE) return ANY_SOURCE;
    if (!Number.isInteger(r) || r < 0 || r >= this.size) throw new MpiArgumentError(`${call}: rank ${r} is outside ${this.name} (size ${this.size}; called on rank ${this.rank})`);
    return this.group[r]!;
  }
  private checkTag(t: number, call: string, any = false): number {
    if (any && t === ANY_TAG) return t;
    if (!Number.isInteger(t) || t < 0) throw new MpiArgumentError(`${call}: tag must be a non-negative integer, got ${t} (rank ${this.rank})`);
    return t;
  }

  /** @internal */
  complete(r: RecvReq, status: Status | undefined, decode: ((m: Msg) => unknown) | null): unknown {
    if (r.error !== null) throw r.error;
    const m = r.msg!;
    if (status) {
      status.source = this.group.indexOf(m.src);
      status.tag = m.tag;
      status.count = m.kind === Kind.number ? 8 : m.len;
    }
    return decode ? decode(m) : undefined;
  }

  // ---- internal synchronous point-to-point on a context ----
  private tx(v: unknown, dst: number, tag: number, ctx: number): SendReq {
    const [k, n, d] = encode(v);
    return this.ep.send(this.group[dst]!, ctx, tag, k, n, d);
  }
  private rx(src: number, tag: number, ctx: number, call: string): unknown {
    const r = this.ep.recv(src < 0 ? src : this.group[src]!, tag, ctx, null, call);
    this.ep.waitUntil(() => r.done, () => `${call} on ${this.name} (rank ${this.rank} waits for rank ${src})`);
    return this.complete(r, undefined, decodeMsg);
  }
  private txb(a: TypedArray, dst: number, tag: number, ctx: number): SendReq {
    return this.ep.send(this.group[dst]!, ctx, tag, Kind.bytes, 0, bytesOf(a));
  }
  private rxb(into: TypedArray, src: number, tag: number, call: string, exact = true): void {
    const r = this.ep.recv(this.group[src]!, tag, this.coll, bytesOf(into), call);
    this.ep.waitUntil(() => r.done, () => `${call} on ${this.name} (rank ${this.rank} waits for rank ${src})`);
    this.complete(r, undefined, null);
    if (exact && r.msg!.len !== into.byteLength) throw new MpiArgumentError(`${call}: rank ${this.rank} has a buffer of ${into.byteLength} bytes, rank ${src} sent ${r.msg!.len} (buffer sizes must match)`);
  }
  private wait(s: SendReq, call: string): void {
    if (!s.done) this.ep.waitUntil(() => s.done, () => `${call} (send)`);
  }
  private xchg(v: unknown, peer: number, tag: number, call: string): unknown {
    const s = this.tx(v, peer, tag, this.coll);
    const got = this.rx(peer, tag, this.coll, call);
    this.wait(s, call);
    return got;
  }

  // ---- point-to-point, objects ----
  async send(obj: unknown, dest: number, tag = 0): Promise<void> {
    const s = this.tx(obj, this.rankArg(dest, "send"), this.checkTag(tag, "send"), this.p2p);
    this.wait(s, `send(dest=${dest}, tag=${tag})`);
  }
  private rankArg(r: number, call: string): number { this.world(r, call); return r; }
  async recv(source = ANY_SOURCE, tag = ANY_TAG, status?: Status): Promise<any> {
    return this.irecvReq(source, tag, null, decodeMsg, "recv").waitSync(status);
  }
  isend(obj: unknown, dest: number, tag = 0): Request {
    return new Request(this, this.tx(obj, this.rankArg(dest, "isend"), this.checkTag(tag, "isend"), this.p2p), null, null);
  }
  irecv(source = ANY_SOURCE, tag = ANY_TAG): Request { return this.irecvReq(source, tag, null, decodeMsg, "irecv"); }
  private irecvReq(source: number, tag: number, buf: Uint8Array | null, dec: ((m: Msg) => unknown) | null, call: string): Request {
    const w = this.world(source, call, true);
    this.checkTag(tag, call, true);
    return new Request(this, null, this.ep.recv(w, tag, this.p2p, buf, `${call}(source=${source === ANY_SOURCE ? "ANY_SOURCE" : source}, tag=${tagName(tag)})`), dec);
  }
  async sendrecv(sendobj: unknown, dest: number, sendtag = 0, source = ANY_SOURCE, recvtag = ANY_TAG, status?: Status): Promise<any> {
    const s = this.isend(sendobj, dest, sendtag);
    const v = this.irecv(source, recvtag).waitSync(status);
    s.waitSync();
    return v;
  }
  /** Blocks until a matching message is here; fills `status`. */
  async probe(source = ANY_SOURCE, tag = ANY_TAG, status?: Status): Promise<true> {
    const w = this.world(source, "probe", true);
    let m: Msg | null = null;
    this.ep.waitUntil(() => (m = this.ep.probe(w, tag, this.p2p)) !== null, () => `probe(source=${source}, tag=${tagName(tag)})`);
    this.fill(m!, status);
    return true;
  }
  async iprobe(source = ANY_SOURCE, tag = ANY_TAG, status?: Status): Promise<boolean> {
    const m = this.ep.probe(this.world(source, "iprobe", true), tag, this.p2p);
    if (m) this.fill(m, status);
    return m !== null;
  }
  private fill(m: Msg, status?: Status): void {
    if (!status) return;
    status.source = this.group.indexOf(m.src);
    status.tag = m.tag;
    status.count = m.kind === Kind.number ? 8 : m.len;
  }

  // ---- point-to-point, buffers ----
  async Send(buf: TypedArray, dest: number, tag = 0): Promise<void> {
    const s = this.ep.send(this.world(dest, "Send"), this.p2p, this.checkTag(tag, "Send"), Kind.bytes, 0, bytesOf(buf));
    this.wait(s, `Send(dest=${dest}, tag=${tag})`);
  }
  async Recv(buf: TypedArray, source = ANY_SOURCE, tag = ANY_TAG, status?: Status): Promise<void> {
    this.irecvReq(source, tag, bytesOf(buf), null, "Recv").waitSync(status);
  }
  Isend(buf: TypedArray, dest: number, tag = 0): Request {
    return new Request(this, this.ep.send(this.world(dest, "Isend"), this.p2p, this.checkTag(tag, "Isend"), Kind.bytes, 0, bytesOf(buf)), null, null);
  }
  Irecv(buf: TypedArray, source = ANY_SOURCE, tag = ANY_TAG): Request { return this.irecvReq(source, tag, bytesOf(buf), null, "Irecv"); }
  async Sendrecv(sendbuf: TypedArray, dest: number, sendtag: number, recvbuf: TypedArray, source = ANY_SOURCE, recvtag = ANY_TAG, status?: Status): Promise<void> {
    const s = this.Isend(sendbuf, dest, sendtag);
    this.Irecv(recvbuf, source, recvtag).waitSync(status);
    s.waitSync();
  }

  // ---- collectives, objects ----
  async barrier(): Promise<void> {
    for (let k = 1; k < this.size; k <<= 1) this.xchgDir(0, (this.rank + k) % this.size, (this.rank - k + this.size) % this.size, T.barrier, "barrier");
  }
  private xchgDir(v: unknown, to: number, from: number, tag: number, call: string): unknown {
    const s = this.tx(v, to, tag, this.coll);
    const got = this.rx(from, tag, this.coll, call);
    this.wait(s, call);
    return got;
  }
  private rootArg(root: number, call: string): number { this.world(root, `${call} (root)`); return root; }

  async bcast<V>(obj: V, root = 0): Promise<V> {
    this.rootArg(root, "bcast");
    const n = this.size;
    const vr = (this.rank - root + n) % n;
    let v: unknown = obj;
    let enc: [number, number, Uint8Array] | null = vr === 0 ? encode(obj) : null;
    let mask = 1;
    while (mask < n) {
      if (vr & mask) {
        const r = this.ep.recv(this.group[(vr - mask + root) % n]!, T.bcast, this.coll, null, "bcast");
        this.ep.waitUntil(() => r.done, () => `bcast(root=${root}) on ${this.name}`);
        const m = r.msg!;
        enc = [m.kind, m.num, m.data];
        v = decodeMsg(m);
        break;
      }
      mask <<= 1;
    }
    mask >>= 1;
    const sends: SendReq[] = [];
    for (; mask > 0; mask >>= 1) if (vr + mask < n) sends.push(this.ep.send(this.group[(vr + mask + root) % n]!, this.coll, T.bcast, enc![0], enc![1], enc![2]));
    for (const s of sends) this.wait(s, "bcast");
    return v as V;
  }

  async reduce(obj: unknown, op: Op = "sum", root = 0): Promise<any> {
    this.rootArg(root, "reduce");
    return this.reduceWith(obj, root, (a, b) => applyOp(op, a, b, "reduce"), isCommutative(op), (v, d) => this.tx(v, d, T.reduce, this.coll), (s) => this.rx(s, T.reduce, this.coll, "reduce"));
  }

  private reduceWith<V>(mine: V, root: number, f: (a: V, b: V) => V, commute: boolean, send: (v: V, d: number) => SendReq, recv: (s: number) => V): V | undefined {
    const n = this.size;
    const target = commute ? root : 0;
    const vr = (this.rank - target + n) % n;
    let acc = mine;
    for (let mask = 1; mask < n; mask <<= 1) {
      if ((vr & mask) === 0) {
        const src = vr | mask;
        if (src < n) acc = f(acc, recv((src + target) % n));
      } else {
        this.wait(send(acc, (vr - mask + target) % n), "reduce");
        break;
      }
    }
    if (target !== root) {
      if (this.rank === 0) this.wait(send(acc, root), "reduce");
      if (this.rank === root) acc = recv(0);
    }
    return this.rank === root ? acc : undefined;
  }

  async allreduce(obj: unknown, op: Op = "sum"): Promise<any> {
    return this.recursiveDoubling(obj, (a, b) => applyOp(op, a, b, "allreduce"), (v, p) => this.xchg(v, p, T.allreduce, "allreduce"), (v, d) => this.tx(v, d, T.allreduce, this.coll), (s) => this.rx(s, T.allreduce, this.coll, "allreduce"));
  }

  /** MPICH's recursive doubling, with the fold for a size that is not a power of two; `f(lower, higher)`. */
  private recursiveDoubling<V>(mine: V, f: (a: V, b: V) => V, xchg: (v: V, peer: number) => V, send: (v: V, d: number) => SendReq, recv: (s: number) => V): V {
    const n = this.size;
    const r = this.rank;
    let pof2 = 1;
    while (pof2 * 2 <= n) pof2 *= 2;
    const rem = n - pof2;
    let acc = mine;
    let nr: number;
    if (r < 2 * rem) {
      if (r % 2 === 0) {
        this.wait(send(acc, r + 1), "allreduce");
        nr = -1;
      } else {
        acc = f(recv(r - 1), acc);
        nr = r >> 1;
      }
    } else nr = r - rem;
    if (nr !== -1) {
      for (let mask = 1; mask < pof2; mask <<= 1) {
        const nd = nr ^ mask;
        const d = nd < rem ? nd * 2 + 1 : nd + rem;
        const got = xchg(acc, d);
        acc = d < r ? f(got, acc) : f(acc, got);
      }
    }
    if (r < 2 * rem) {
      if (r % 2 === 1) this.wait(send(acc, r - 1), "allreduce");
      else acc = recv(r + 1);
    }
    return acc;
  }

  async gather(obj: unknown, root = 0): Promise<any[] | undefined> {
    this.rootArg(root, "gather");
    if (this.rank !== root) {
      this.wait(this.tx(obj, root, T.gather, this.coll), "gather");
      return undefined;
    }
    const out: unknown[] = [];
    for (let i = 0; i < this.size; i++) out.push(i === root ? obj : this.rx(i, T.gather, this.coll, `gather(root=${root})`));
    return out;
  }

  async scatter(objs: unknown[] | undefined, root = 0): Promise<any> {
    this.rootArg(root, "scatter");
    if (this.rank === root) {
      if (!Array.isArray(objs) || objs.length !== this.size) throw new MpiArgumentError(`scatter: the root (rank ${root}) must pass an array of ${this.size} items, got ${Array.isArray(objs) ? objs.length : typeof objs}`);
      const sends = objs.map((o, i) => (i === root ? null : this.tx(o, i, T.scatter, this.coll)));
      for (const s of sends) if (s) this.wait(s, "scatter");
      return objs[root];
    }
    return this.rx(root, T.scatter, this.coll, `scatter(root=${root})`);
  }

  async allgather(obj: unknown): Promise<any[]> {
    const n = this.size;
    const out: unknown[] = new Array(n);
    out[this.rank] = obj;
    const right = (this.rank + 1) % n;
    const left = (this.rank - 1 + n) % n;
    for (let i = 0; i < n - 1; i++) {
      const sendIdx = (this.rank - i + n) % n;
      out[(this.rank - i - 1 + n) % n] = this.xchgDir(out[sendIdx], right, left, T.allgather, "allgather");
    }
    return out;
  }

  async alltoall(objs: unknown[]): Promise<any[]> {
    const n = this.size;
    if (!Array.isArray(objs) || objs.length !== n) throw new MpiArgumentError(`alltoall: rank ${this.rank} must pass an array of ${n} items, got ${Array.isArray(objs) ? objs.length : typeof objs}`);
    const out: unknown[] = new Array(n);
    out[this.rank] = objs[this.rank];
    for (let i = 1; i < n; i++) {
      const to = (this.rank + i) % n;
      const from = (this.rank - i + n) % n;
      out[from] = this.xchgDir(objs[to], to, from, T.alltoall, "alltoall");
    }
    return out;
  }

  async scan(obj: unknown, op: Op = "sum"): Promise<any> {
    return this.scanWith(obj, (a, b) => applyOp(op, a, b, "scan"), false, T.scan, "scan");
  }
  async exscan(obj: unknown, op: Op = "sum"): Promise<any> {
    return this.scanWith(obj, (a, b) => applyOp(op, a, b, "exscan"), true, T.exscan, "exscan");
  }
  private scanWith(mine: unknown, f: (a: unknown, b: unknown) => unknown, exclusive: boolean, tag: number, call: string): unknown {
    let partial = mine;
    let result: unknown = exclusive ? undefined : mine;
    let have = !exclusive;
    for (let mask = 1; mask < this.size; mask <<= 1) {
      const d = this.rank ^ mask;
      if (d >= this.size) continue;
      const got = this.xchg(partial, d, tag, call);
      if (this.rank > d) {
        partial = f(got, partial);
        result = have ? f(got, result) : got;
        have = true;
      } else partial = f(partial, got);
    }
    return result;
  }

  /** Reduces arrays of `size` blocks element-wise and gives rank i block i (counts: items per rank, default 1). */
  async reduceScatter(objs: unknown[], op: Op = "sum"): Promise<any> {
    const all = (await this.allreduce(objs, op)) as unknown[];
    return all[this.rank];
  }

  // ---- collectives, typed arrays ----
  async Barrier(): Promise<void> { return this.barrier(); }

  async Bcast(buf: TypedArray, root = 0): Promise<void> {
    this.rootArg(root, "Bcast");
    const n = this.size;
    const vr = (this.rank - root + n) % n;
    let mask = 1;
    while (mask < n) {
      if (vr & mask) {
        this.rxb(buf, (vr - mask + root) % n, T.bcast, `Bcast(root=${root})`);
        break;
      }
      mask <<= 1;
    }
    mask >>= 1;
    const sends: SendReq[] = [];
    for (; mask > 0; mask >>= 1) if (vr + mask < n) sends.push(this.txb(buf, (vr + mask + root) % n, T.bcast, this.coll));
    for (const s of sends) this.wait(s, "Bcast");
  }

  private recvNew(like: TypedArray, src: number, tag: number, call: string): TypedArray {
    const C = like.constructor as Ctor;
    const t = new C(like.length);
    this.rxb(t, src, tag, call);
    return t;
  }
  private combineFn(op: Op, call: string): (a: TypedArray, b: TypedArray) => TypedArray {
    return (a, b) => {
      const out = new (a.constructor as Ctor)(a.length);
      combineInto(op, a as ArrayLike<any>, b as ArrayLike<any>, out as any, call);
      return out;
    };
  }
  private src(sendbuf: TypedArray | typeof IN_PLACE, recvbuf: TypedArray): TypedArray {
    return sendbuf === IN_PLACE ? recvbuf.slice() : sendbuf;
  }

  async Allreduce(sendbuf: TypedArray | typeof IN_PLACE, recvbuf: TypedArray, op: Op = "sum"): Promise<void> {
    const mine = this.src(sendbuf, recvbuf);
    if (mine.length !== recvbuf.length) throw new MpiArgumentError(`Allreduce: rank ${this.rank}'s send buffer has ${mine.length} elements, its receive buffer ${recvbuf.length}`);
    const res = this.recursiveDoubling(mine, this.combineFn(op, "Allreduce"), (v, p) => {
      const s = this.txb(v, p, T.allreduce, this.coll);
      const got = this.recvNew(v, p, T.allreduce, "Allreduce");
      this.wait(s, "Allreduce");
      return got;
    }, (v, d) => this.txb(v, d, T.allreduce, this.coll), (s) => this.recvNew(mine, s, T.allreduce, "Allreduce"));
    if (res !== recvbuf) recvbuf.set(res as any);
  }

  async Reduce(sendbuf: TypedArray | typeof IN_PLACE, recvbuf: TypedArray | null, op: Op = "sum", root = 0): Promise<void> {
    this.rootArg(root, "Reduce");
    const mine = sendbuf === IN_PLACE ? recvbuf!.slice() : sendbuf;
    const res = this.reduceWith(mine, root, this.combineFn(op, "Reduce"), isCommutative(op), (v, d) => this.txb(v, d, T.reduce, this.coll), (s) => this.recvNew(mine, s, T.reduce, "Reduce"));
    if (this.rank === root) {
      if (!recvbuf) throw new MpiArgumentError(`Reduce: the root (rank ${root}) needs a receive buffer`);
      recvbuf.set(res as any);
    }
  }

  async Scan(sendbuf: TypedArray | typeof IN_PLACE, recvbuf: TypedArray, op: Op = "sum"): Promise<void> {
    await this.bufScan(this.src(sendbuf, recvbuf), recvbuf, op, false);
  }
  async Exscan(sendbuf: TypedArray | typeof IN_PLACE, recvbuf: TypedArray, op: Op = "sum"): Promise<void> {
    await this.bufScan(this.src(sendbuf, recvbuf), recvbuf, op, true);
  }
  private async bufScan(mine: TypedArray, recvbuf: TypedArray, op: Op, exclusive: boolean): Promise<void> {
    const res = (await (exclusive ? this.exscan(mine, op) : this.scan(mine, op))) as TypedArray | undefined;
    if (res !== undefined) recvbuf.set(res as any);
  }

  async Gather(sendbuf: TypedArray, recvbuf: TypedArray | null, root = 0): Promise<void> {
    const parts = await this.gather(sendbuf, root);
    if (parts) this.concatInto(parts as TypedArray[], recvbuf, "Gather");
  }
  async Allgather(sendbuf: TypedArray, recvbuf: TypedArray): Promise<void> {
    this.concatInto((await this.allgather(sendbuf)) as TypedArray[], recvbuf, "Allgather");
  }
  private concatInto(parts: TypedArray[], recvbuf: TypedArray | null, call: string): void {
    const total = parts.reduce((s, p) => s + p.length, 0);
    if (!recvbuf || recvbuf.length !== total) throw new MpiArgumentError(`${call}: rank ${this.rank}'s receive buffer has ${recvbuf?.length ?? 0} elements, the ranks sent ${total} (${parts.map((p, i) => `rank ${i}: ${p.length}`).join(", ")})`);
    let off = 0;
    for (const p of parts) {
      recvbuf.set(p as any, off);
      off += p.length;
    }
  }
  async Scatter(sendbuf: TypedArray | null, recvbuf: TypedArray, root = 0): Promise<void> {
    let parts: TypedArray[] | undefined;
    if (this.rank === root) {
      const k = recvbuf.length;
      if (!sendbuf || sendbuf.length !== k * this.size) throw new MpiArgumentError(`Scatter: the root's send buffer has ${sendbuf?.length ?? 0} elements, ${this.size} ranks × ${k} expected`);
      parts = Array.from({ length: this.size }, (_, i) => sendbuf.subarray(i * k, (i + 1) * k) as TypedArray);
    }
    const mine = (await this.scatter(parts, root)) as TypedArray;
    if (mine.length !== recvbuf.length) throw new MpiArgumentError(`Scatter: rank ${this.rank}'s receive buffer has ${recvbuf.length} elements, the root sent ${mine.length}`);
    recvbuf.set(mine as any);
  }
  async Alltoall(sendbuf: TypedArray, recvbuf: TypedArray): Promise<void> {
    const k = sendbuf.length / this.size;
    if (!Number.isInteger(k)) throw new MpiArgumentError(`Alltoall: rank ${this.rank}'s send buffer (${sendbuf.length}) does not divide into ${this.size} blocks`);
    const got = (await this.alltoall(Array.from({ length: this.size }, (_, i) => sendbuf.subarray(i * k, (i + 1) * k)))) as TypedArray[];
    this.concatInto(got, recvbuf, "Alltoall");
  }
  /** Each rank gets block `rank` (recvbuf.length elements) of the element-wise reduction. */
  async ReduceScatterBlock(sendbuf: TypedArray, recvbuf: TypedArray, op: Op = "sum"): Promise<void> {
    const k = recvbuf.length;
    if (sendbuf.length !== k * this.size) throw new MpiArgumentError(`ReduceScatterBlock: rank ${this.rank}'s send buffer has ${sendbuf.length} elements, ${this.size} × ${k} expected`);
    const all = sendbuf.slice();
    await this.Allreduce(sendbuf, all, op);
    recvbuf.set(all.subarray(this.rank * k, (this.rank + 1) * k) as any);
  }

  // ---- communicators ----
  private newContext(): number {
    const c = this.recursiveDoubling(nextContext, (a, b) => Math.max(a, b), (v, p) => this.xchg(v, p, T.ctx, "split") as number, (v, d) => this.tx(v, d, T.ctx, this.coll), (s) => this.rx(s, T.ctx, this.coll, "split") as number);
    nextContext = c + 2;
    return c;
  }
  async dup(): Promise<Comm> { return new Comm(this.ep, this.group, this.newContext(), `${this.name}.dup`); }
  /** Ranks with the same `color` form a new communicator, ordered by `key` then rank; color < 0 gets null. */
  async split(color: number, key = 0): Promise<Comm | null> {
    const ctx = this.newContext();
    const all = (await this.allgather([color, key])) as [number, number][];
    if (color < 0) return null;
    const members = all.map(([c, k], r) => ({ c, k, r })).filter((m) => m.c === color).sort((a, b) => a.k - b.k || a.r - b.r);
    return new Comm(this.ep, members.map((m) => this.group[m.r]!), ctx, `${this.name}.split(${color})`);
  }

  /** Stops every rank of the job; the job exits with `errorcode`. */
  abort(errorcode = 1): never {
    const hook = (globalThis as Record<symbol, unknown>)[Symbol.for("shoal.mpi.abort")] as ((rank: number, code: number) => void) | undefined;
    if (hook) hook(this.ep.rank, errorcode);
    throw new MpiAbortRequest(this.rank, errorcode);
  }
  Abort(errorcode = 1): never { return this.abort(errorcode); }
}

/** Thrown by `abort()`; the rank thread turns it into an abort of the job. */
export class MpiAbortRequest extends MpiAbortedError {
  override name = "MpiAbortRequest";
  constructor(readonly rank: number, readonly errorcode: number) {
    super(`MPI_ABORT was invoked on rank ${rank} with errorcode ${errorcode}`);
  }
}
