/**
 * The shared-memory transport of `shoal/mpi`: ranks are worker threads of one
 * process; every ordered pair of ranks (src → dst) has a single-producer,
 * single-consumer byte ring in a SharedArrayBuffer, and each rank has a
 * doorbell word it sleeps on with `Atomics.wait` after a short spin. A message
 * is a 24-byte header (payload length, tag, context, kind, an inline f64) and
 * its payload, streamed through the ring in pieces when it is larger than the
 * ring, so any size passes with bounded memory. Matching (source, tag,
 * context, ANY_SOURCE / ANY_TAG) is done by the receiving rank in arrival
 * order per source, which is MPI's non-overtaking rule.
 *
 * Control words (Int32, per rank at 16 + 16·r): bell, sleeping, state
 * (0 running, 1 blocked, 2 done), epoch (bumped when a blocked rank moves
 * data). Word 0 is the job's abort flag. The launcher's main thread reads
 * them to find deadlocks and sets abort to stop every rank.
 */
import { MpiAbortedError, MpiTruncateError } from "./errors.ts";

export const HEADER_BYTES = 24;
const RING_HEADER = 128;
export const Kind = { bytes: 0, object: 1, number: 2 } as const;

export const State = { running: 0, blocked: 1, done: 2 } as const;
export const CTRL_WORDS_PER_RANK = 16;
export const DESCR_BYTES = 160;

export interface JobMemory {
  readonly size: number;
  readonly ringBytes: number;
  readonly ctrl: SharedArrayBuffer;
  readonly descr: SharedArrayBuffer;
  /** src * size + dst; null on the diagonal. */
  readonly rings: (SharedArrayBuffer | null)[];
}

/** Ring capacity for `size` ranks: 1 MiB each up to 8 ranks, smaller beyond (at least 64 KiB). */
export function defaultRingBytes(size: number): number {
  let c = 1 << 20;
  while (c > 1 << 16 && c * size * (size - 1) > 256 * (1 << 20)) c >>= 1;
  return c;
}

export function createJobMemory(size: number, ringBytes = defaultRingBytes(size)): JobMemory {
  if ((ringBytes & (ringBytes - 1)) !== 0) throw new RangeError("ringBytes must be a power of two");
  const rings: (SharedArrayBuffer | null)[] = [];
  for (let s = 0; s < size; s++) for (let d = 0; d < size; d++) rings.push(s === d ? null : new SharedArrayBuffer(RING_HEADER + ringBytes));
  return {
    size,
    ringBytes,
    ctrl: new SharedArrayBuffer(4 * (CTRL_WORDS_PER_RANK * (size + 1))),
    descr: new SharedArrayBuffer(DESCR_BYTES * size),
    rings,
  };
}

export function ctrlSlot(rank: number): number {
  return CTRL_WORDS_PER_RANK * (rank + 1);
}

/** Reads what a blocked rank said it waits in (for deadlock reports). */
export function readDescription(mem: JobMemory, rank: number): string {
  const b = new Uint8Array(mem.descr, rank * DESCR_BYTES, DESCR_BYTES);
  const end = b.indexOf(0);
  return Buffer.from(b.subarray(0, end < 0 ? DESCR_BYTES : end)).toString("utf8");
}

class Ring {
  readonly idx: Int32Array;
  readonly data: Uint8Array;
  readonly mask: number;
  constructor(
    sab: SharedArrayBuffer,
    readonly cap: number,
  ) {
    this.idx = new Int32Array(sab, 0, RING_HEADER / 4);
    this.data = new Uint8Array(sab, RING_HEADER, cap);
    this.mask = cap - 1;
  }
}

/** A message as the receiver holds it. */
export interface Msg {
  src: number;
  tag: number;
  ctx: number;
  kind: number;
  num: number;
  len: number;
  data: Uint8Array;
  got: number;
  recv: RecvReq | null;
}

export interface RecvReq {
  src: number;
  tag: number;
  ctx: number;
  /** Buffer API: the bytes land here directly. */
  buf: Uint8Array | null;
  msg: Msg | null;
  done: boolean;
  error: Error | null;
  call: string;
}

interface OutMsg {
  hdr: Uint8Array;
  data: Uint8Array;
  off: number;
  done: boolean;
}

export interface SendReq {
  done: boolean;
}

const DONE_SEND: SendReq = { done: true };

/** One rank's end of the transport: send queues, incoming assembly, matching, blocking waits. */
export class Endpoint {
  private readonly ctrl: Int32Array;
  private readonly descr: Uint8Array;
  private readonly out: (Ring | null)[] = [];
  private readonly inn: (Ring | null)[] = [];
  private readonly sendq: OutMsg[][] = [];
  private readonly cur: (Msg | null)[] = [];
  private readonly posted: RecvReq[] = [];
  private readonly unexpected: Msg[] = [];
  private readonly hdr = new Uint8Array(HEADER_BYTES);
  private readonly hv = new DataView(this.hdr.buffer);
  private readonly me: number;
  private pendingSends = 0;
  /** Microseconds to spin before sleeping. */
  spinUs: number;

  constructor(
    readonly rank: number,
    readonly mem: JobMemory,
    spinUs: number,
  ) {
    this.me = ctrlSlot(rank);
    this.spinUs = spinUs;
    this.ctrl = new Int32Array(mem.ctrl);
    this.descr = new Uint8Array(mem.descr, rank * DESCR_BYTES, DESCR_BYTES);
    for (let p = 0; p < mem.size; p++) {
      const o = mem.rings[rank * mem.size + p] ?? null;
      const i = mem.rings[p * mem.size + rank] ?? null;
      this.out.push(o ? new Ring(o, mem.ringBytes) : null);
      this.inn.push(i ? new Ring(i, mem.ringBytes) : null);
      this.sendq.push([]);
      this.cur.push(null);
    }
  }

  get size(): number {
    return this.mem.size;
  }

  /** Starts a send; the returned request is done once the bytes are in the ring (the buffer may then be reused). */
  send(dst: number, ctx: number, tag: number, kind: number, num: number, data: Uint8Array): SendReq {
    if (dst === this.rank) {
      this.deliverLocal(ctx, tag, kind, num, data);
      return DONE_SEND;
    }
    const hv = this.hv;
    hv.setUint32(0, data.byteLength, true);
    hv.setInt32(4, tag, true);
    hv.setInt32(8, ctx, true);
    hv.setInt32(12, kind, true);
    hv.setFloat64(16, num, true);
    const q = this.sendq[dst]!;
    const ring = this.out[dst]!;
    if (q.length === 0) {
      const wrote = this.writeDirect(ring, dst, this.hdr, data);
      if (wrote === HEADER_BYTES + data.byteLength) return DONE_SEND;
      const m: OutMsg = { hdr: this.hdr.slice(), data, off: wrote, done: false };
      q.push(m);
      this.pendingSends++;
      return m;
    }
    const m: OutMsg = { hdr: this.hdr.slice(), data, off: 0, done: false };
    q.push(m);
    this.pendingSends++;
    return m;
  }

  private writeDirect(ring: Ring, dst: number, hdr: Uint8Array, data: Uint8Array): number {
    const h = Atomics.load(ring.idx, 0);
    const t = Atomics.load(ring.idx, 16);
    const free = ring.cap - ((h - t) | 0);
    if (free < HEADER_BYTES) return 0;
    let pos = h;
    pos = this.put(ring, pos, hdr, 0, HEADER_BYTES);
    const n = Math.min(data.byteLength, free - HEADER_BYTES);
    if (n > 0) pos = this.put(ring, pos, data, 0, n);
    Atomics.store(ring.idx, 0, pos);
    this.wake(dst);
    return HEADER_BYTES + n;
  }

  private put(ring: Ring, pos: number, src: Uint8Array, off: number, n: number): number {
    const p = pos & ring.mask;
    const first = Math.min(n, ring.cap - p);
    if (n <= 16) {
      const d = ring.data;
      for (let i = 0; i < first; i++) d[p + i] = src[off + i]!;
      for (let i = first; i < n; i++) d[i - first] = src[off + i]!;
    } else {
      ring.data.set(src.subarray(off, off + first), p);
      if (n > first) ring.data.set(src.subarray(off + first, off + n), 0);
    }
    return (pos + n) | 0;
  }

  private get(ring: Ring, pos: number, dst: Uint8Array, off: number, n: number): number {
    const p = pos & ring.mask;
    const first = Math.min(n, ring.cap - p);
    if (n <= 16) {
      const d = ring.data;
      for (let i = 0; i < first; i++) dst[off + i] = d[p + i]!;
      for (let i = first; i < n; i++) dst[off + i] = d[i - first]!;
    } else {
      dst.set(ring.data.subarray(p, p + first), off);
      if (n > first) dst.set(ring.data.subarray(0, n - first), off + first);
    }
    return (pos + n) | 0;
  }

  private wake(r: number): void {
    const s = ctrlSlot(r);
    if (Atomics.load(this.ctrl, s + 1) !== 0) {
      Atomics.add(this.ctrl, s, 1);
      Atomics.notify(this.ctrl, s);
    }
  }

  /** Posts a receive; matched against messages already here first (in arrival order). */
  recv(src: number, tag: number, ctx: number, buf: Uint8Array | null, call: string): RecvReq {
    const r: RecvReq = { src, tag, ctx, buf, msg: null, done: false, error: null, call };
    const u = this.unexpected;
    for (let i = 0; i < u.length; i++) {
      const m = u[i]!;
      if (matches(r, m)) {
        u.splice(i, 1);
        r.msg = m;
        m.recv = r;
        if (buf !== null && m.len > buf.byteLength) r.error = this.truncated(r, m);
        if (m.got === m.len) this.finish(m);
        return r;
      }
    }
    this.posted.push(r);
    return r;
  }

  /** Looks for a matching message that has arrived (at least its header); does not receive it. */
  probe(src: number, tag: number, ctx: number): Msg | null {
    this.progress();
    const key = { src, tag, ctx } as RecvReq;
    for (const m of this.unexpected) if (matches(key, m)) return m;
    return null;
  }

  private truncated(r: RecvReq, m: Msg): Error {
    return new MpiTruncateError(`${r.call}: rank ${this.rank} posted a buffer of ${r.buf!.byteLength} bytes for a message of ${m.len} bytes from rank ${m.src} (tag ${m.tag})`);
  }

  private deliverLocal(ctx: number, tag: number, kind: number, num: number, data: Uint8Array): void {
    const m: Msg = { src: this.rank, tag, ctx, kind, num, len: data.byteLength, data: data.slice(), got: data.byteLength, recv: null };
    this.arrive(m);
    if (m.recv !== null) {
      const r = m.recv;
      if (r.buf !== null && r.error === null) r.buf.set(m.data);
      this.finish(m);
    }
  }

  /** Header arrived: match with a posted receive or queue as unexpected. */
  private arrive(m: Msg): void {
    const p = this.posted;
    for (let i = 0; i < p.length; i++) {
      const r = p[i]!;
      if (matches(r, m)) {
        p.splice(i, 1);
        m.recv = r;
        r.msg = m;
        if (r.buf !== null) {
          if (m.len > r.buf.byteLength) r.error = this.truncated(r, m);
          else if (m.src !== this.rank) m.data = r.buf.subarray(0, m.len);
        }
        return;
      }
    }
    this.unexpected.push(m);
  }

  private finish(m: Msg): void {
    const r = m.recv!;
    if (r.buf !== null && m.data.buffer !== r.buf.buffer && r.error === null) r.buf.set(m.data);
    r.done = true;
  }

  /** Moves whatever can move; true when anything did. */
  progress(): boolean {
    let moved = false;
    if (this.pendingSends > 0) moved = this.flushSends();
    const n = this.mem.size;
    for (let s = 0; s < n; s++) {
      const ring = this.inn[s];
      if (ring === null || ring === undefined) continue;
      const t0 = Atomics.load(ring.idx, 16);
      let t = t0;
      let avail = (Atomics.load(ring.idx, 0) - t) | 0;
      while (avail > 0) {
        let m = this.cur[s]!;
        if (m === null) {
          if (avail < HEADER_BYTES) break;
          t = this.get(ring, t, this.hdr, 0, HEADER_BYTES);
          avail -= HEADER_BYTES;
          const hv = this.hv;
          const len = hv.getUint32(0, true);
          m = { src: s, tag: hv.getInt32(4, true), ctx: hv.getInt32(8, true), kind: hv.getInt32(12, true), num: hv.getFloat64(16, true), len, data: EMPTY, got: 0, recv: null };
          this.arrive(m);
          if (m.data === EMPTY && len > 0) m.data = new Uint8Array(len);
          if (len === 0) {
            if (m.recv !== null) this.finish(m);
            continue;
          }
          this.cur[s] = m;
        }
        const k = Math.min(avail, m.len - m.got);
        if (m.recv !== null && m.recv.error !== null) t = (t + k) | 0;
        else t = this.get(ring, t, m.data, m.got, k);
        m.got += k;
        avail -= k;
        if (m.got === m.len) {
          this.cur[s] = null;
          if (m.recv !== null) this.finish(m);
        }
      }
      if (t !== t0) {
        Atomics.store(ring.idx, 16, t);
        this.wake(s);
        moved = true;
      }
    }
    return moved;
  }

  private flushSends(): boolean {
    let moved = false;
    for (let d = 0; d < this.mem.size; d++) {
      const q = this.sendq[d]!;
      while (q.length > 0) {
        const m = q[0]!;
        const ring = this.out[d]!;
        const h = Atomics.load(ring.idx, 0);
        const free = ring.cap - ((h - Atomics.load(ring.idx, 16)) | 0);
        const total = HEADER_BYTES + m.data.byteLength;
        if ((m.off === 0 && free < HEADER_BYTES) || free === 0) break;
        let pos = h;
        let room = free;
        if (m.off < HEADER_BYTES) {
          const n = Math.min(HEADER_BYTES - m.off, room);
          pos = this.put(ring, pos, m.hdr, m.off, n);
          m.off += n;
          room -= n;
        }
        const n = Math.min(total - m.off, room);
        if (n > 0) pos = this.put(ring, pos, m.data, m.off - HEADER_BYTES, n);
        m.off += n;
        Atomics.store(ring.idx, 0, pos);
        this.wake(d);
        moved = true;
        if (m.off < total) break;
        m.done = true;
        q.shift();
        this.pendingSends--;
      }
    }
    return moved;
  }

  /** Blocks (spin, then Atomics.wait) until `done()`; `describe` says what for, if the rank must sleep. */
  waitUntil(done: () => boolean, describe: () => string): void {
    if (done()) return;
    const ctrl = this.ctrl;
    const me = this.me;
    let spinUntil = 0;
    let described = false;
    for (;;) {
      if (this.progress()) {
        if (described) Atomics.add(ctrl, me + 3, 1);
        if (done()) break;
        spinUntil = 0;
        continue;
      }
      if (done()) break;
      if (spinUntil === 0) spinUntil = performance.now() + this.spinUs / 1000;
      if (performance.now() < spinUntil) continue;
      if (!described) {
        described = true;
        this.describe(describe());
        Atomics.add(ctrl, me + 3, 1);
      }
      const v = Atomics.load(ctrl, me);
      Atomics.store(ctrl, me + 1, 1);
      Atomics.store(ctrl, me + 2, State.blocked);
      if (!this.progress() && !done()) Atomics.wait(ctrl, me, v, 100);
      Atomics.store(ctrl, me + 1, 0);
      Atomics.store(ctrl, me + 2, State.running);
      if (Atomics.load(ctrl, 0) !== 0) throw new MpiAbortedError(`rank ${this.rank}: the job was stopped while it waited in ${describe()}`);
      spinUntil = 0;
    }
    if (described) Atomics.store(ctrl, me + 2, State.running);
  }

  private describe(text: string): void {
    const b = Buffer.from(text.slice(0, DESCR_BYTES - 1), "utf8");
    this.descr.fill(0);
    this.descr.set(b.subarray(0, DESCR_BYTES - 1));
  }

  /** Waits until every queued send is in its ring (at the end of the program). */
  flush(): void {
    this.waitUntil(
      () => this.pendingSends === 0,
      () => `finalize (sends to ranks ${this.sendq.map((q, i) => (q.length > 0 ? i : -1)).filter((i) => i >= 0).join(", ")} not yet received)`,
    );
  }

  markDone(): void {
    Atomics.store(this.ctrl, this.me + 2, State.done);
  }
}

const EMPTY = new Uint8Array(0);

function matches(r: { src: number; tag: number; ctx: number }, m: Msg): boolean {
  return r.ctx === m.ctx && (r.src === -1 || r.src === m.src) && (r.tag === -1 || r.tag === m.tag);
}
