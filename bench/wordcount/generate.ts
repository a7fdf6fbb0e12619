// Writes N bytes of English-like text (Zipf-distributed vocabulary of 50,000
// words, capitals, punctuation, apostrophes) into F files. Deterministic.
import { createWriteStream, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function vocabulary(n: number, rnd: () => number): string[] {
  const letters = "etaoinshrdlcumwfgypbvkjxqz";
  const words = new Set<string>();
  while (words.size < n) {
    const len = 1 + Math.floor(rnd() * rnd() * 12);
    let w = "";
    for (let i = 0; i < len; i++) w += letters[Math.floor(rnd() * rnd() * letters.length)];
    if (rnd() < 0.02) w += "'s";
    words.add(w);
  }
  return [...words];
}

/** Generates (or reuses) `files` files totalling about `bytes` bytes in `dir`; returns their paths. */
export async function generate(dir: string, bytes: number, files: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const per = Math.ceil(bytes / files);
  const paths = Array.from({ length: files }, (_, i) => join(dir, `text-${String(i).padStart(3, "0")}.txt`));
  const ok = paths.every((p) => existsSync(p) && statSync(p).size >= per && statSync(p).size < per + (1 << 20));
  if (ok) return paths;
  const rnd = lcg(12345);
  const vocab = vocabulary(50_000, rnd);
  // Zipf(1) sampling via a cumulative table.
  const cum = new Float64Array(vocab.length);
  let total = 0;
  for (let i = 0; i < vocab.length; i++) cum[i] = total += 1 / (i + 1);
  const pick = (): string => {
    const u = rnd() * total;
    let lo = 0;
    let hi = vocab.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo]!;
  };
  for (const p of paths) {
    const out = createWriteStream(p);
    let written = 0;
    while (written < per) {
      const lines: string[] = [];
      for (let l = 0; l < 2000; l++) {
        const n = 4 + Math.floor(rnd() * 14);
        const ws: string[] = [];
        for (let j = 0; j < n; j++) {
          let w = pick();
          const r = rnd();
          if (j === 0 || r < 0.03) w = w[0]!.toUpperCase() + w.slice(1);
          if (r > 0.93) w += r > 0.98 ? "." : ",";
          ws.push(w);
        }
        lines.push(ws.join(" "));
      }
      const chunk = lines.join("\n") + "\n";
      written += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
  }
  return paths;
}
