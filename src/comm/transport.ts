/**
 * The transport seam: `listen` and `connect` chosen by address scheme.
 * tcp:// and tls:// use real sockets; inproc:// connects two Comms in one
 * process through in-memory streams (still framed, encoded and handshaken,
 * so tests exercise the codec and the door). Every listener bounds its
 * connections (open, and in their handshake) and gives each a deadline to
 * finish the handshake; see `handshake.ts` and `limits.ts`.
 */
import net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { Comm, refusalLog, type CommLimits } from "./comm.ts";
import { formatAddress, parseAddress } from "./address.ts";
import { AddressError, ConnectError } from "./errors.ts";
import { acceptHandshake, offerHandshake } from "./handshake.ts";
import { commLimits, type ListenLimits } from "./limits.ts";
import { Accepts, type OpSet } from "../protocol/messages.ts";
import { log } from "../utils/log.ts";
import { TLS_HINT } from "./tls-env.ts";

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
}

export interface ListenOptions {
  tls?: TlsOptions;
  /** Cluster token peers must prove they know in the handshake (undefined = open). */
  token?: string | undefined;
  /** What listens, for log lines and refusals: "scheduler", "worker data port". */
  name?: string;
  /** Ops accepted from a peer right after its handshake (see `Accepts`). */
  accepts: OpSet;
  /** Overrides of the limits from the environment (see {@link commLimits}). */
  limits?: Partial<ListenLimits>;
  /**
   * Neither the listening socket nor idle accepted connections hold the
   * process open (an embedded scheduler: the program ends when its own work
   * does). Default false: a standalone server runs until stopped.
   */
  unref?: boolean;
}

export interface Listener {
  /** The address peers connect to (with the real port when 0 was asked). */
  readonly address: string;
  /** Connections open now (handshaking or open). */
  readonly connections: number;
  close(): Promise<void>;
}

const inprocRegistry = new Map<string, (stream: Duplex, peer: string) => void>();
let inprocCounter = 0;

export async function listen(address: string, onComm: (comm: Comm) => void, opts: ListenOptions): Promise<Listener> {
  const a = parseAddress(address);
  const limits = { ...commLimits(), ...(opts.limits ?? {}) };
  const name = opts.name ?? "listener";
  const role = name.split(" ")[0]!;
  let open = 0;
  let handshaking = 0;
  /** Takes a new connection through the handshake; false when it was turned away at the door. */
  const admit = (stream: Duplex, local: string, peer: string, raw: Duplex): void => {
    if (open >= limits.maxConnections || handshaking >= limits.maxHandshakes) {
      const which = open >= limits.maxConnections ? `${open} connections are open (limit ${limits.maxConnections}, SHOAL_COMM_MAX_CONNECTIONS)` : `${handshaking} connections are in their handshake (limit ${limits.maxHandshakes}, SHOAL_COMM_MAX_HANDSHAKES)`;
      refusalLog(role, `turned away a connection from ${peer} to the ${name}: ${which}`, "limit");
      raw.destroy();
      return;
    }
    open++;
    handshaking++;
    let inHandshake = true;
    const done = (): void => {
      if (inHandshake) {
        inHandshake = false;
        handshaking--;
        clearTimeout(deadline);
      }
    };
    raw.once("close", () => {
      open--;
      done();
    });
    const deadline = setTimeout(() => {
      if (!inHandshake) return;
      refusalLog(role, `closed a connection from ${peer} to the ${name}: no handshake within ${limits.handshakeTimeoutMs} ms (SHOAL_COMM_HANDSHAKE_TIMEOUT)`, "deadline");
      raw.destroy();
    }, limits.handshakeTimeoutMs);
    deadline.unref();
    const comm = new Comm(stream, local, peer);
    comm.role = role;
    void acceptHandshake(comm, { token: opts.token, name }).then((ok) => {
      done();
      if (!ok || comm.isClosed) return;
      comm.open(limits, opts.accepts);
      if (opts.unref) comm.unref();
      onComm(comm);
    });
  };
  if (a.scheme === "inproc") {
    const n = a.name === "" || a.name === "auto" ? `inproc-${process.pid}-${++inprocCounter}` : a.name;
    if (inprocRegistry.has(n)) throw new AddressError(address, `inproc address '${n}' is already in use`);
    const full = `inproc://${n}`;
    inprocRegistry.set(n, (stream, peer) => admit(stream, full, peer, stream));
    return { address: full, get connections() { return open; }, close: async () => void inprocRegistry.delete(n) };
  }
  if (a.scheme === "tls" && !opts.tls) {
    throw new AddressError(address, `listening on ${address} needs a certificate and key (--tls-cert, --tls-key)`);
  }
  const server =
    a.scheme === "tls"
      ? tls.createServer({
          cert: opts.tls!.cert,
          key: opts.tls!.key,
          handshakeTimeout: limits.handshakeTimeoutMs,
          ...(opts.tls!.ca ? { ca: opts.tls!.ca, requestCert: true, rejectUnauthorized: true } : {}),
        })
      : net.createServer();
  const sockets = new Set<net.Socket>();
  /** Raw sockets by remote address and port (live ones are unique), to find a TLS socket's raw socket. */
  const raws = new Map<string, net.Socket>();
  const peerOf = (sock: net.Socket): string => formatAddress(a.scheme, sock.remoteAddress ?? "?", sock.remotePort ?? 0);
  const localOf = (sock: net.Socket): string => formatAddress(a.scheme, sock.localAddress ?? a.host, sock.localPort ?? a.port);
  server.on("connection", (raw: net.Socket) => {
    raw.setNoDelay(true);
    raw.setKeepAlive(true, 10_000);
    sockets.add(raw);
    raw.on("close", () => sockets.delete(raw));
    raw.on("error", () => undefined);
    if (a.scheme === "tcp") {
      admit(raw, localOf(raw), peerOf(raw), raw);
      return;
    }
    // tls: count and time the connection from its first byte; admit it once the TLS handshake is done
    const id = `${raw.remoteAddress}|${raw.remotePort}`;
    raws.set(id, raw);
    raw.on("close", () => raws.delete(id));
    if (sockets.size > limits.maxConnections + limits.maxHandshakes) {
      refusalLog(role, `turned away a connection from ${peerOf(raw)} to the ${name}: too many connections`, "limit");
      raw.destroy();
    }
  });
  if (a.scheme === "tls") {
    server.on("secureConnection", (sock: tls.TLSSocket) => {
      const raw = raws.get(`${sock.remoteAddress}|${sock.remotePort}`) ?? sock;
      sock.on("error", () => undefined);
      admit(sock, localOf(sock), peerOf(sock), raw);
    });
    server.on("tlsClientError", (err, sock) => {
      refusalLog(role, `refused a TLS connection from ${sock.remoteAddress ?? "?"} to the ${name}: ${err.message}`, "tls");
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const hint = err.code === "EADDRINUSE" ? `port ${a.port} is already in use; pick another with --port or use 0 for any free port` : err.message;
      reject(new AddressError(address, `cannot listen on ${address}: ${hint}`));
    });
    server.listen(a.port, a.host, () => resolve());
  });
  server.on("error", (err) => log(role, `${name} at ${address}: ${err.message}`));
  if (opts.unref) server.unref();
  const bound = server.address() as net.AddressInfo;
  return {
    address: formatAddress(a.scheme, a.host, bound.port),
    get connections() {
      return open;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ConnectOptions {
  timeoutMs?: number;
  tls?: Partial<TlsOptions>;
  /** Cluster token to prove in the handshake. */
  token?: string | undefined;
  /** What connects, for error messages ("client", "worker"). */
  role?: string;
  /** Ops accepted from the listener after the handshake (default: replies only). */
  accepts?: OpSet;
  limits?: Partial<CommLimits>;
}

/**
 * Connects and runs the handshake. Rejects with a {@link ConnectError} when
 * nothing answers in time, or a {@link HandshakeError} when the peer refuses
 * (wrong token, other protocol version).
 */
export async function connect(address: string, opts: ConnectOptions = {}): Promise<Comm> {
  const a = parseAddress(address);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = Date.now();
  let comm: Comm;
  if (a.scheme === "inproc") {
    const accept = inprocRegistry.get(a.name);
    if (!accept) throw new ConnectError(address, `nothing listens on ${address}`);
    const [x, y] = duplexPair();
    const local = `inproc://${a.name}/c${++inprocCounter}`;
    comm = new Comm(x, local, address);
    accept(y, local);
  } else {
    comm = await new Promise<Comm>((resolve, reject) => {
      const sock =
        a.scheme === "tls"
          ? tls.connect({
              host: a.host,
              port: a.port,
              ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
              ...(opts.tls?.cert ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
              servername: net.isIP(a.host) ? undefined : a.host,
              checkServerIdentity: () => undefined,
            } as tls.ConnectionOptions)
          : net.connect({ host: a.host, port: a.port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ConnectError(address, `timed out after ${timeoutMs} ms connecting to ${address}; is the scheduler running and reachable?`));
      }, timeoutMs);
      sock.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = err.code === "ECONNREFUSED" ? "connection refused (nothing listens there?)" : err.code === "ENOTFOUND" ? "unknown host" : err.message;
        const hint = a.scheme === "tls" && err.code !== "ECONNREFUSED" && err.code !== "ENOTFOUND" ? `; ${TLS_HINT}` : "";
        reject(new ConnectError(address, `cannot connect to ${address}: ${why}${hint}`, { cause: err }));
      });
      sock.once(a.scheme === "tls" ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        sock.removeAllListeners("error");
        sock.setNoDelay(true);
        sock.setKeepAlive(true, 10_000);
        const local = formatAddress(a.scheme, sock.localAddress ?? "?", sock.localPort ?? 0);
        resolve(new Comm(sock, local, address));
      });
    });
  }
  const left = Math.max(1, timeoutMs - (Date.now() - started));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      offerHandshake(comm, address, opts.token, opts.role ?? "connection"),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ConnectError(address, `${address} accepted the connection but did not finish the handshake within ${timeoutMs} ms`)), left);
      }),
    ]);
  } catch (err) {
    comm.abort(err as Error);
    if (err instanceof ConnectError) throw err;
    const tlsHint = a.scheme === "tls" && !(opts.tls?.ca && opts.tls.cert) ? ` (${TLS_HINT})` : "";
    throw new ConnectError(address, `connection to ${address} closed during the handshake: ${(err as Error).message}; is it a Shoal ${a.scheme}:// endpoint with the same TLS settings?${tlsHint}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  comm.open({ ...commLimits(), ...(opts.limits ?? {}) }, opts.accepts ?? Accepts.none);
  return comm;
}

/** Two connected in-memory duplex streams. */
function duplexPair(): [Duplex, Duplex] {
  let a: Duplex;
  let b: Duplex;
  const make = (other: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        other().push(chunk);
        cb();
      },
      writev(chunks, cb) {
        for (const c of chunks) other().push(c.chunk as Buffer);
        cb();
      },
      final(cb) {
        other().push(null);
        cb();
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
