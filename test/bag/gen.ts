// Deterministic generated text for word-count tests (Zipf-ish vocabulary, ragged lines).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const VOCAB = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he", "I", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "Zoë", "naïve", "café", "日本語", "straße", "don't", "x-ray", "e.g.", "42", "3.14"];

/** Writes `nlines` lines of pseudo-random words to `path` (seeded LCG). */
export function writeText(path: string, nlines: number, seed = 1): void {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < nlines; i++) {
    const n = Math.floor(rnd() * 14);
    const words: string[] = [];
    for (let j = 0; j < n; j++) {
      const r = rnd();
      words.push(r < 0.02 ? `w${Math.floor(rnd() * 5000)}` : VOCAB[Math.floor(r * r * VOCAB.length)]!);
    }
    out.push((rnd() < 0.1 ? "  " : "") + words.join(rnd() < 0.1 ? "\t " : " "));
  }
  writeFileSync(path, out.join("\n") + "\n");
}

/** Word counts by the Unix reference `tr -s '[:space:]' '\n' | LC_ALL=C sort | uniq -c`. */
export function referenceCounts(paths: string[]): Map<string, number> {
  const out = execFileSync("sh", ["-c", `cat "$@" | tr -s '[:space:]' '\\n' | LC_ALL=C sort | LC_ALL=C uniq -c`, "sh", ...paths], { env: { ...process.env, LC_ALL: "C" }, maxBuffer: 1 << 28 }).toString("utf8");
  const m = new Map<string, number>();
  for (const line of out.split("\n")) {
    const mm = /^\s*(\d+) (.*)$/.exec(line);
    if (mm && mm[2] !== "") m.set(mm[2]!, Number(mm[1]));
  }
  return m;
}
