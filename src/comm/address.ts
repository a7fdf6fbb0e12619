/** Parsing and formatting of `scheme://host:port` addresses. */
import { AddressError } from "./errors.ts";

export type Scheme = "tcp" | "tls" | "inproc";

export interface ParsedAddress {
  scheme: Scheme;
  host: string;
  port: number;
  /** For inproc: the registry name. */
  name: string;
}

/**
 * Parses `tcp://host:port`, `tls://host:port`, `inproc://name` and plain
 * `host:port` (taken as tcp). IPv6 hosts are written in brackets.
 */
export function parseAddress(address: string, defaultPort = 8786): ParsedAddress {
  let rest = address.trim();
  let scheme: Scheme = "tcp";
  const m = /^([a-z]+):\/\/(.*)$/i.exec(rest);
  if (m) {
    const s = m[1]!.toLowerCase();
    if (s !== "tcp" && s !== "tls" && s !== "inproc") {
      throw new AddressError(address, `unsupported address scheme '${s}://' in '${address}'; use tcp://, tls:// or inproc://`);
    }
    scheme = s;
    rest = m[2]!;
  }
  if (scheme === "inproc") return { scheme, host: "", port: 0, name: rest };
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const idx = rest.lastIndexOf(":");
    if (idx >= 0) {
      host = rest.slice(0, idx);
      portText = rest.slice(idx + 1);
    } else {
      host = rest;
    }
  }
  if (host === "") host = "127.0.0.1";
  const port = portText === undefined || portText === "" ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AddressError(address, `invalid port in '${address}': expected an integer in 0..65535`);
  }
  return { scheme, host, port, name: "" };
}

export function formatAddress(scheme: Scheme, host: string, port: number): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

/** The host part of an address, for log lines and locality. */
export function hostOf(address: string): string {
  try {
    const p = parseAddress(address);
    return p.scheme === "inproc" ? "inproc" : p.host;
  } catch {
    return address;
  }
}
