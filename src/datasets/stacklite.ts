/**
 * Synthetic StackLite data set: `questions.csv` and `question_tags.csv` with the
 * schema, null rates and skew of the public StackLite dump (2017-04 snapshot:
 * 17,763,486 questions, 52,224,835 question-tag rows, 59,140 distinct tags).
 *
 * This is a byte-for-byte port of `shared/data/gen-stacklite.mjs`: the same
 * arguments give the same files (same xorshift32 stream, same draw order).
 *
 * @module
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";

/** Options of {@link generateStacklite}. */
export interface StackliteOptions {
  /** Output folder (created if absent). */
  out: string;
  /** Number of questions (default 1,000,000). */
  questions?: number;
  /** Tag rows whose Id is in no question, appended to the last tags file (default 0). */
  dangling?: number;
  /** Split each table into this many numbered files, `questions-000.csv` … (default 1). */
  files?: number;
  /** Random seed (default 42). */
  seed?: number;
}

/** What {@link generateStacklite} wrote. */
export interface StackliteResult {
  questions: number;
  tagRows: number;
  files: { questions: string[]; questionTags: string[] };
}

const TOP_TAGS = ["javascript", "java", "php", "c#", "android", "jquery", "python", "html", "ios", "c++",
  "css", "mysql", "objective-c", "sql", "asp.net", "ruby-on-rails", "iphone", "c", "arrays", "angularjs",
  "sql-server", "json", "r", "ruby", "node.js", ".net", "regex", "ajax", "xml", "linux", "swift", "django",
  "wpf", "database", "excel", "string", "spring", "windows", "html5", "vb.net", "eclipse", "multithreading",
  "bash", "git", "oracle", "wordpress", "facebook", "image", "forms", "osx", "scala", "haskell", "go", "rust"];
const N_TAGS = 59_140;
const Q = 6;
const S = 1.22;
const START = Date.UTC(2008, 6, 31, 21, 26, 37);
const END = Date.UTC(2017, 3, 5, 23, 59, 59);

let cdfCache: Float64Array | undefined;
/** Zipf-Mandelbrot CDF p(k) ~ 1/(k+q)^s, fitted to the real top-10 tag shares. */
function tagCdf(): Float64Array {
  if (cdfCache) return cdfCache;
  const cdf = new Float64Array(N_TAGS);
  let acc = 0;
  for (let k = 0; k < N_TAGS; k++) { acc += 1 / Math.pow(k + 1 + Q, S); cdf[k] = acc; }
  for (let k = 0; k < N_TAGS; k++) cdf[k] = cdf[k]! / acc;
  cdfCache = cdf;
  return cdf;
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + "Z";
const tagName = (k: number): string => (k < TOP_TAGS.length ? TOP_TAGS[k]! : `tag-${k}`);

function writeChunk(s: WriteStream, chunk: string): Promise<void> | undefined {
  if (s.write(chunk)) return undefined;
  return new Promise((resolve) => s.once("drain", () => resolve()));
}

function endStream(s: WriteStream, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.once("finish", () => resolve());
    s.end(chunk);
  });
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`options.${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * Write the synthetic StackLite CSVs, deterministic for a given seed.
 *
 * @example
 * ```ts
 * await generateStacklite({ out: "/tmp/sl", questions: 20_000, dangling: 3, files: 2 });
 * ```
 */
export async function generateStacklite(opts: StackliteOptions): Promise<StackliteResult> {
  const out = opts.out;
  const nQuestions = opts.questions ?? 1_000_000;
  const nDangling = opts.dangling ?? 0;
  const nFiles = opts.files ?? 1;
  checkCount("questions", nQuestions, 0);
  checkCount("dangling", nDangling, 0);
  checkCount("files", nFiles, 1);
  let seed = (opts.seed ?? 42) >>> 0 || 1;
  const rand = (): number => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed / 4294967296;
  };
  const cdf = tagCdf();
  const drawTag = (): number => {
    const u = rand();
    let lo = 0;
    let hi = N_TAGS - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    return lo;
  };
  const score = (): number => {
    const u = rand();
    if (u < 0.05) return -Math.floor(rand() * 5) - 1;
    if (u < 0.55) return 0;
    if (u < 0.95) return 1 + Math.floor(rand() * 5);
    return Math.floor(Math.exp(rand() * 9));
  };

  mkdirSync(out, { recursive: true });
  const name = (base: string, f: number): string =>
    join(out, nFiles === 1 ? `${base}.csv` : `${base}-${String(f).padStart(3, "0")}.csv`);
  const result: StackliteResult = { questions: 0, tagRows: 0, files: { questions: [], questionTags: [] } };
  const perFile = Math.ceil(nQuestions / nFiles);
  let id = 0;
  let written = 0;
  let tagRows = 0;
  for (let f = 0; f < nFiles; f++) {
    result.files.questions.push(name("questions", f));
    result.files.questionTags.push(name("question_tags", f));
    const q = createWriteStream(name("questions", f));
    const t = createWriteStream(name("question_tags", f));
    q.write("Id,CreationDate,ClosedDate,DeletionDate,Score,OwnerUserId,AnswerCount\n");
    t.write("Id,Tag\n");
    let qb = "";
    let tb = "";
    const n = Math.min(perFile, nQuestions - written);
    for (let i = 0; i < n; i++, written++) {
      id += 1 + Math.floor(rand() * 4);
      const created = START + Math.floor(((END - START) * (written + rand())) / nQuestions);
      const closed = rand() < 0.09 ? iso(created + Math.floor(rand() * 4e9)) : "NA";
      const deleted = rand() < 0.2327 ? iso(created + Math.floor(rand() * 9e9)) : "NA";
      const owner = rand() < 0.02 ? "NA" : String(1 + Math.floor(Math.pow(rand(), 2.2) * 7_500_000));
      const answers = rand() < 0.005 ? "NA" : String(Math.floor(-Math.log(1 - rand() * 0.9999) * 1.4));
      qb += `${id},${iso(created)},${closed},${deleted},${score()},${owner},${answers}\n`;
      const u = rand();
      const k = u < 0.13 ? 1 : u < 0.39 ? 2 : u < 0.67 ? 3 : u < 0.86 ? 4 : 5;
      const seen = new Set<number>();
      for (let j = 0; j < k; j++) {
        const tag = drawTag();
        if (seen.has(tag)) continue;
        seen.add(tag);
        tb += `${id},${tagName(tag)}\n`;
        tagRows++;
      }
      if (i % 50_000 === 49_999) {
        await writeChunk(q, qb);
        await writeChunk(t, tb);
        qb = "";
        tb = "";
      }
    }
    if (f === nFiles - 1) for (let d = 0; d < nDangling; d++) { tb += `${id + 10 + d * 3},dangling-tag\n`; tagRows++; }
    await Promise.all([endStream(q, qb), endStream(t, tb)]);
  }
  result.questions = written;
  result.tagRows = tagRows;
  return result;
}
