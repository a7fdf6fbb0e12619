/**
 * The bounds of the network edges, with their defaults and environment
 * variables (all documented in docs/configuration.md).
 */
import type { CommLimits } from "./comm.ts";
import { DEFAULT_PACKET_LIMITS } from "../protocol/wire.ts";

export interface ListenLimits extends CommLimits {
  /** Connections a listener keeps open at once. */
  maxConnections: number;
  /** Connections that may be in their handshake at once. */
  maxHandshakes: number;
  /** Milliseconds a new connection has to finish its handshake (TLS included). */
  handshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: ListenLimits = {
  ...DEFAULT_PACKET_LIMITS,
  maxQueuedBytes: 1024 ** 3,
  idleTimeoutMs: 0,
  maxConnections: 10_000,
  maxHandshakes: 256,
  handshakeTimeoutMs: 10_000,
};

function envNumber(name: string, fallback: number, scale = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback * scale;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got '${raw}'`);
  return v * scale;
}

/** The limits in force: the defaults, overridden by `SHOAL_COMM_*` variables. */
export function commLimits(): ListenLimits {
  return {
    maxPacketBytes: envNumber("SHOAL_COMM_MAX_PACKET_BYTES", DEFAULT_LIMITS.maxPacketBytes),
    maxFrames: DEFAULT_LIMITS.maxFrames,
    maxQueuedBytes: envNumber("SHOAL_COMM_MAX_QUEUED_BYTES", DEFAULT_LIMITS.maxQueuedBytes),
    idleTimeoutMs: DEFAULT_LIMITS.idleTimeoutMs,
    maxConnections: envNumber("SHOAL_COMM_MAX_CONNECTIONS", DEFAULT_LIMITS.maxConnections),
    maxHandshakes: envNumber("SHOAL_COMM_MAX_HANDSHAKES", DEFAULT_LIMITS.maxHandshakes),
    handshakeTimeoutMs: envNumber("SHOAL_COMM_HANDSHAKE_TIMEOUT", DEFAULT_LIMITS.handshakeTimeoutMs / 1000, 1000),
  };
}

/** Idle timeout of connections to a worker's data port (peers reconnect when they need to). */
export function dataIdleTimeoutMs(): number {
  return envNumber("SHOAL_COMM_DATA_IDLE_TIMEOUT", 300, 1000);
}
