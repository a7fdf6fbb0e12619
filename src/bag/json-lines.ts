/**
 * The JSON step of `readJsonLines`: where a line that is not JSON is, for
 * {@link JsonLinesParseError}. Parsing happens while the lines are split
 * (partition.ts), which knows each line's number in its block; the file line
 * is resolved only when a line fails, by counting the newlines before the
 * block (as the CSV reader does).
 *
 * @module
 */
import { readRange } from "../storage/ops.ts";
import type { StorageOptions } from "../storage/types.ts";
import { JsonLinesParseError } from "./errors.ts";

/** A line that did not parse, as the splitter saw it. */
export interface JsonLineFailure {
  /** 1-based line inside the block. */
  lineInBlock: number;
  /** Byte offset of the line in the file. */
  byteOffset: number;
  /** The line (without its newline). */
  text: string;
  /** What JSON.parse threw. */
  err: unknown;
}

/** True when the prefix `s` already holds the syntax error (not merely an incomplete value). */
function failsWithin(s: string): boolean {
  try {
    JSON.parse(s);
    return false;
  } catch (err) {
    const m = /at position (\d+)/.exec(String((err as Error).message));
    if (m) return Number(m[1]) < s.length;
    return !/Unexpected end of JSON input/.test(String((err as Error).message));
  }
}

/**
 * 0-based position in `line` where JSON.parse stops: the position V8's
 * message gives, else (`Unexpected token ',', "..." is not valid JSON`) the
 * end of the shortest prefix that already fails, found by bisection (a
 * prefix of a valid value fails only as incomplete), else the line's end.
 */
export function jsonErrorPosition(line: string, err: unknown): number {
  const msg = String((err as Error)?.message ?? err);
  const m = /at position (\d+)/.exec(msg);
  if (m) return Math.min(Number(m[1]), line.length);
  if (/Unexpected end of JSON input/.test(msg)) return line.length;
  let lo = 1, hi = line.length;
  if (!failsWithin(line)) return line.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsWithin(line.slice(0, mid))) hi = mid; else lo = mid + 1;
  }
  return lo - 1;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * The error for a line of `url` that is not JSON. `blockBase` is the byte
 * offset of the block's first line: for a block past the file's start the
 * newlines before it are counted (one read of that prefix, on this error
 * path only).
 */
export async function jsonLinesError(url: string, blockBase: number, storage: StorageOptions | undefined, f: JsonLineFailure, part: number): Promise<JsonLinesParseError> {
  const firstLine = blockBase === 0 ? 1 : countNewlines(await readRange(url, 0, blockBase, storage ?? {})) + 1;
  const detail = String((f.err as Error)?.message ?? f.err).split("\n")[0]!;
  return new JsonLinesParseError({
    file: url, line: firstLine + f.lineInBlock - 1, lineInBlock: f.lineInBlock, byteOffset: f.byteOffset,
    column: jsonErrorPosition(f.text, f.err) + 1, detail, snippet: f.text.slice(0, 200),
  }, part, { cause: f.err });
}
