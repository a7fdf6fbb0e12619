/** Errors of the transport layer. All are retriable by reconnecting unless said otherwise. */

export class CommClosedError extends Error {
  override name = "CommClosedError";
  readonly retriable = true;
  constructor(readonly address: string, opts: { message?: string; cause?: unknown } = {}) {
    super(opts.message ?? `connection to ${address} closed`, opts.cause === undefined ? {} : { cause: opts.cause });
  }
}

export class ConnectError extends Error {
  override name = "ConnectError";
  readonly retriable = true;
  constructor(readonly address: string, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
  readonly retriable = false;
}

export class AddressError extends Error {
  override name = "AddressError";
  readonly retriable = false;
  constructor(readonly address: string, message: string) {
    super(message);
  }
}
