/**
 * The evaluator alone (no HTTP): feeds a CSV file to SelectEngine in 256 KiB
 * chunks and prints MB/s per query (per wall second and per CPU second, the
 * latter steadier on a loaded machine), to separate engine cost from transport.
 *
 *     node --import tsx bench/s3select/engine-profile.ts FILE.csv    (QUERY=text runs only the queries containing it)
 */
import { createReadStream, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { SelectEngine } from "../../src/s3/select/engine.ts";
import { parseQuery } from "../../src/s3/select/parser.ts";
import type { SelectRequest } from "../../src/s3/select/request.ts";

const file = process.argv[2]!;
const size = statSync(file).size;
for (const sql of [
  "SELECT s.id, s.word FROM S3Object s WHERE CAST(s.score AS INT) >= 990",
  "SELECT COUNT(*) FROM S3Object s WHERE s.word LIKE 'ch%'",
  "SELECT * FROM S3Object",
].filter((q) => process.env.QUERY === undefined || q.includes(process.env.QUERY))) {
  const req: SelectRequest = {
    expression: sql,
    query: parseQuery(sql),
    input: { kind: "csv", csv: { fileHeaderInfo: "USE", recordDelimiter: "\n", fieldDelimiter: ",", quoteCharacter: '"', quoteEscapeCharacter: '"', comments: "#", allowQuotedRecordDelimiter: false } },
    compression: "NONE",
    output: { kind: "csv", recordDelimiter: "\n", fieldDelimiter: ",", quoteCharacter: '"', quoteEscapeCharacter: '"', quoteFields: "ASNEEDED" },
    progress: false,
    scanRange: undefined,
  };
  const e = new SelectEngine(req);
  const dec = new StringDecoder("utf8");
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let out = 0;
  for await (const c of createReadStream(file, { highWaterMark: 256 * 1024 })) out += e.feed(dec.write(c as Buffer), false).out.length;
  out += e.feed(dec.end(), true).out.length;
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cs = (cpu.user + cpu.system) / 1e6;
  console.log(`${(size / 1e6 / s).toFixed(0).padStart(5)} MB/s wall, ${(size / 1e6 / cs).toFixed(0).padStart(5)} MB/s of CPU time  ${sql}  (${out} chars out)`);
}
