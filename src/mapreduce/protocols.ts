/**
 * Protocols turn lines into key/value pairs and back, as in mrjob: input
 * protocols read input lines, the internal protocol carries data between
 * steps, and output protocols write the final lines. mrjob's defaults are
 * {@link RawValueProtocol} in, {@link JSONProtocol} inside and out.
 *
 * @module
 */

/** Reads and writes one line per key/value pair. */
export interface Protocol {
  readonly name: string;
  /** Decodes a line (without its newline) into `[key, value]`. */
  read(line: string): [unknown, unknown];
  /** Encodes a pair as one line (without a newline). */
  write(key: unknown, value: unknown): string;
}

function json(v: unknown): string {
  return v === undefined ? "null" : JSON.stringify(v);
}

function splitTab(line: string): [string, string | null] {
  const t = line.indexOf("\t");
  return t < 0 ? [line, null] : [line.slice(0, t), line.slice(t + 1)];
}

/** `JSON(key) \t JSON(value)` (mrjob's JSONProtocol; the internal and output default). @example `JSONProtocol.write("a", 1) // '"a"\t1'` */
export const JSONProtocol: Protocol = {
  name: "JSONProtocol",
  read(line) {
    const [k, v] = splitTab(line);
    return [JSON.parse(k), v === null ? null : JSON.parse(v)];
  },
  write(key, value) {
    return `${json(key)}\t${json(value)}`;
  },
};

/** Each line is one JSON value; key null. @example `JSONValueProtocol.read('{"a":1}') // [null, {a: 1}]` */
export const JSONValueProtocol: Protocol = {
  name: "JSONValueProtocol",
  read(line) {
    return [null, JSON.parse(line)];
  },
  write(_key, value) {
    return json(value);
  },
};

/** The raw line is the value; key null (mrjob's input default). @example `RawValueProtocol.read("hello") // [null, "hello"]` */
export const RawValueProtocol: Protocol = {
  name: "RawValueProtocol",
  read(line) {
    return [null, line];
  },
  write(_key, value) {
    return String(value ?? "");
  },
};

/** Raw text before the first tab is the key, after it the value (Hadoop Streaming's format). @example `RawProtocol.read("a\tb") // ["a", "b"]` */
export const RawProtocol: Protocol = {
  name: "RawProtocol",
  read(line) {
    return splitTab(line);
  },
  write(key, value) {
    const k = key === null || key === undefined ? "" : String(key);
    const v = value === null || value === undefined ? "" : String(value);
    return key === null || key === undefined ? v : value === null || value === undefined ? k : `${k}\t${v}`;
  },
};

/** Protocols by name, for the command line. */
export const PROTOCOLS: Readonly<Record<string, Protocol>> = { JSONProtocol, JSONValueProtocol, RawValueProtocol, RawProtocol };
