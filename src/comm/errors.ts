/**
 * Errors of the transport layer. Each is a {@link ShoalError}: it has a
 * stable `code` and says whether trying again (reconnecting) can help
 * (`retriable`).
 */
import { ShoalError } from "../utils/errors.ts";

export class CommClosedError extends ShoalError {
  override name = "CommClosedError";
  override readonly code: string = "comm-closed";
  override readonly retriable: boolean = true;
  constructor(readonly address: string, opts: { message?: string; cause?: unknown } = {}) {
    super(opts.message ?? `connection to ${address} closed`, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

/** A request got no reply in time (the connection may still be open). */
export class RequestTimeoutError extends CommClosedError {
  override name = "RequestTimeoutError";
  override readonly code = "request-timeout";
  constructor(address: string, readonly op: string, readonly timeoutMs: number) {
    super(address, { message: `no reply from ${address} to '${op}' within ${timeoutMs} ms` });
  }
}

export class ConnectError extends ShoalError {
  override name = "ConnectError";
  override readonly code: string = "connect-failed";
  override readonly retriable: boolean = true;
  constructor(readonly address: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}

/**
 * Why a peer refused our connection handshake: `bad-token` (the cluster token
 * is missing or wrong), `protocol-mismatch` (different Shoal protocol
 * versions), `busy` (connection limit) or `handshake` (anything else).
 */
export type HandshakeRefusal = "bad-token" | "protocol-mismatch" | "busy" | "handshake";

/** The peer refused the connection handshake; only `busy` is worth retrying. */
export class HandshakeError extends ConnectError {
  override name = "HandshakeError";
  override readonly code: string;
  override readonly retriable: boolean;
  constructor(address: string, readonly reason: HandshakeRefusal, message: string, opts: { cause?: unknown } = {}) {
    super(address, message, opts);
    this.code = `handshake-${reason}`;
    this.retriable = reason === "busy";
  }
}

export class ProtocolError extends ShoalError {
  override name = "ProtocolError";
  override readonly code: string = "protocol";
  override readonly retriable: boolean = false;
}

export class AddressError extends ShoalError {
  override name = "AddressError";
  override readonly code: string = "address";
  override readonly retriable: boolean = false;
  constructor(readonly address: string, message: string) {
    super(message);
  }
}
