/**
 * The transport seam: `listen` and `connect` chosen by address scheme.
 * tcp:// and tls:// use real sockets; inproc:// connects two Comms in one
 * process through in-memory streams (still framed and encoded, so tests
 * exercise the codec).
 */
import net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { Comm } from "./comm.ts";
import { formatAddress, parseAddress } from "./address.ts";
import { AddressError, ConnectError } from "./errors.ts";

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
}

export interface ListenOptions {
  tls?: TlsOptions;
}

export interface Listener {
  /** The address peers connect to (with the real port when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

const inprocRegistry = new Map<string, (comm: Comm) => void>();
let inprocCounter = 0;

export async function listen(address: string, onComm: (comm: Comm) => void, opts: ListenOptions = {}): Promise<Listener> {
  const a = parseAddress(address);
  if (a.scheme === "inproc") {
    const name = a.name === "" || a.name === "auto" ? `inproc-${process.pid}-${++inprocCounter}` : a.name;
    if (inprocRegistry.has(name)) throw new AddressError(address, `inproc address '${name}' is already in use`);
    inprocRegistry.set(name, onComm);
    const full = `inproc://${name}`;
    return { address: full, close: async () => void inprocRegistry.delete(name) };
  }
  if (a.scheme === "tls" && !opts.tls) {
    throw new AddressError(address, `listening on ${address} needs a certificate and key (--tls-cert, --tls-key)`);
  }
  const server =
    a.scheme === "tls"
      ? tls.createServer({ cert: opts.tls!.cert, key: opts.tls!.key, ...(opts.tls!.ca ? { ca: opts.tls!.ca, requestCert: true, rejectUnauthorized: true } : {}) })
      : net.createServer();
  const sockets = new Set<net.Socket>();
  const onSocket = (sock: net.Socket): void => {
    sock.setNoDelay(true);
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    const peer = formatAddress(a.scheme, sock.remoteAddress ?? "?", sock.remotePort ?? 0);
    onComm(new Comm(sock, formatAddress(a.scheme, sock.localAddress ?? a.host, sock.localPort ?? a.port), peer));
  };
  server.on(a.scheme === "tls" ? "secureConnection" : "connection", onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const hint = err.code === "EADDRINUSE" ? `port ${a.port} is already in use; pick another with --port or use 0 for any free port` : err.message;
      reject(new AddressError(address, `cannot listen on ${address}: ${hint}`));
    });
    server.listen(a.port, a.host, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: formatAddress(a.scheme, a.host, bound.port),
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
}

export async function connect(address: string, opts: ConnectOptions = {}): Promise<Comm> {
  const a = parseAddress(address);
  if (a.scheme === "inproc") {
    const accept = inprocRegistry.get(a.name);
    if (!accept) throw new ConnectError(address, `nothing listens on ${address}`);
    const [x, y] = duplexPair();
    const local = `inproc://${a.name}/c${++inprocCounter}`;
    const comm = new Comm(x, local, address);
    accept(new Comm(y, address, local));
    return comm;
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<Comm>((resolve, reject) => {
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
      reject(new ConnectError(address, `cannot connect to ${address}: ${why}`, { cause: err }));
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
