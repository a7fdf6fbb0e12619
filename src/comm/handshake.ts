/**
 * The connection handshake, run on every link (client, worker and peer to
 * scheduler; client and peer to a worker's data port) before any other
 * message is read:
 *
 *     listener → connector   hello   { protocol, version, nonce, auth: "token" | "none" }
 *     connector → listener   auth    { protocol, version, nonce, mac?, role }
 *     listener → connector   welcome { mac? }      or   refused { reason, message }
 *
 * With a cluster token, `auth.mac` is HMAC-SHA256(token, "shoal-auth" | the
 * listener's nonce | the connector's nonce) and `welcome.mac` proves the
 * listener knows the token too; the token itself never crosses the wire, so
 * a passive observer of a tcp:// link cannot replay it on a new connection
 * (tls:// is what keeps the data itself private). Until `welcome`, a
 * connection may carry one frame of at most 64 KiB and must finish within
 * the handshake deadline; after it, the limits of {@link CommLimits} apply.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";
import { int, literal, obj, oneOf, opt, str, validate, type Infer } from "../protocol/schema.ts";
import { VERSION } from "../version.ts";
import type { Comm, Message } from "./comm.ts";
import { refusalLog } from "./comm.ts";
import { HandshakeError, type HandshakeRefusal } from "./errors.ts";

const helloSchema = obj({ op: literal("hello"), protocol: int, version: str, nonce: str, auth: oneOf("token", "none") });
const authSchema = obj({ op: literal("auth"), protocol: int, version: str, nonce: str, mac: opt(str), role: opt(str) });
const answerSchema = obj({ op: oneOf("welcome", "refused"), mac: opt(str), reason: opt(str), message: opt(str) });

export interface HandshakeOptions {
  /** Cluster token the peer must prove it knows; undefined = open. */
  token?: string | undefined;
  /** What listens, for messages ("scheduler", "worker data port"). */
  name: string;
}

function mac(token: string, label: string, a: string, b: string): string {
  return createHmac("sha256", token).update(`${label}\0${a}\0${b}`).digest("base64");
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Waits for the next message of a comm in its handshake (the comm validates nothing yet). */
function nextMessage(comm: Comm): Promise<Message> {
  return new Promise((resolve, reject) => {
    comm.onMessage((m) => {
      comm.onMessage(null);
      resolve(m);
    });
    comm.onClose((err) => reject(err ?? new Error("connection closed during the handshake")));
  });
}

/** The listener's half. Resolves true when the peer may go on; false when it was refused (the comm is closed). */
export async function acceptHandshake(comm: Comm, opts: HandshakeOptions): Promise<boolean> {
  const nonce = randomBytes(18).toString("base64");
  comm.send({ op: "hello", protocol: PROTOCOL_VERSION, version: VERSION, nonce, auth: opts.token === undefined ? "none" : "token" });
  let m: Message;
  try {
    m = await nextMessage(comm);
  } catch {
    return false;
  }
  const bad = validate(authSchema, m);
  if (bad !== null) return refuse(comm, opts, "a connection", "handshake", `expected the connection handshake ('auth'), but ${bad}; is this a Shoal peer?`);
  const a = m as unknown as Infer<typeof authSchema>;
  const who = a.role !== undefined && /^[a-z]{1,20}$/.test(a.role) ? a.role : "a connection";
  if (a.protocol !== PROTOCOL_VERSION) {
    return refuse(comm, opts, who, "protocol-mismatch", `protocol version mismatch: the peer speaks Shoal protocol ${a.protocol} (shoal ${a.version.slice(0, 40)}), this ${opts.name} speaks protocol ${PROTOCOL_VERSION} (shoal ${VERSION}); run the same Shoal version everywhere`);
  }
  if (opts.token !== undefined) {
    if (a.mac === undefined) return refuse(comm, opts, who, "bad-token", `this ${opts.name} requires the cluster token (--token or SHOAL_TOKEN); none was given`);
    if (!sameMac(a.mac, mac(opts.token, "shoal-auth", nonce, a.nonce))) return refuse(comm, opts, who, "bad-token", `this ${opts.name} requires the cluster token (--token or SHOAL_TOKEN); the one given is wrong`);
  }
  comm.send({ op: "welcome", ...(opts.token !== undefined ? { mac: mac(opts.token, "shoal-welcome", a.nonce, nonce) } : {}) });
  return true;
}

function refuse(comm: Comm, opts: HandshakeOptions, who: string, reason: HandshakeRefusal, message: string): false {
  refusalLog(comm.role, `refused ${who} from ${comm.peerAddress} to the ${opts.name}: ${message}`, reason);
  comm.send({ op: "refused", reason, message });
  comm.close();
  return false;
}

/** The connector's half. Resolves when the listener welcomed us; throws a {@link HandshakeError} when it refused. */
export async function offerHandshake(comm: Comm, address: string, token: string | undefined, role: string): Promise<void> {
  const hello = await nextMessage(comm);
  const bad = validate(helloSchema, hello);
  if (bad !== null) {
    comm.close();
    throw new HandshakeError(address, "handshake", `${address} did not start the Shoal handshake (${bad}); is a Shoal scheduler or worker listening there?`);
  }
  const h = hello as unknown as Infer<typeof helloSchema>;
  const nonce = randomBytes(18).toString("base64");
  const needToken = h.auth === "token";
  if (needToken && token === undefined) {
    comm.close();
    throw new HandshakeError(address, "bad-token", `${address} refused this ${role}: it requires the cluster token (--token or SHOAL_TOKEN); none was given`);
  }
  comm.send({ op: "auth", protocol: PROTOCOL_VERSION, version: VERSION, nonce, role, ...(needToken ? { mac: mac(token!, "shoal-auth", h.nonce, nonce) } : {}) });
  const answer = await nextMessage(comm);
  if (validate(answerSchema, answer) !== null) {
    comm.close();
    throw new HandshakeError(address, "handshake", `${address} answered the handshake with something unexpected`);
  }
  if (answer.op === "refused") {
    comm.close();
    const reason = (["bad-token", "protocol-mismatch", "busy"] as const).find((r) => r === answer["reason"]) ?? "handshake";
    throw new HandshakeError(address, reason, `${address} refused this ${role}: ${String(answer["message"] ?? "no reason given")}`);
  }
  if (needToken && !sameMac(String(answer["mac"] ?? ""), mac(token!, "shoal-welcome", nonce, h.nonce))) {
    comm.close();
    throw new HandshakeError(address, "bad-token", `${address} did not prove that it knows the cluster token; not talking to it`);
  }
}
