/**
 * Errors of the transport layer. Each has a stable `code` and says whether
 * trying again (reconnecting) can help (`retriable`).
 */

export class CommClosedError extends Error {
  override name = "CommClosedError";
  readonly code: string = "comm-closed";
  readonly retriable: boolean = true;
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

export class ConnectError extends Error {
  override name = "ConnectError";
  readonly code: string = "connect-failed";
  readonly retriable: boolean = true;
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

export class ProtocolError extends Error {
  override name = "ProtocolError";
  readonly code: string = "protocol";
  readonly retriable: boolean = false;
}

export class AddressError extends Error {
  override name = "AddressError";
  readonly code: string = "address";
  readonly retriable: boolean = false;
  constructor(readonly address: string, message: string) {
    super(message);
  }
}
