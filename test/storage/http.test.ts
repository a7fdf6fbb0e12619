/**
 * http(s):// backend: the read-only conformance subset against a small
 * node:http static file server on loopback (a test fixture), plus servers that
 * ignore Range, refuse HEAD, or deny access.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as storage from "../../src/storage/index.ts";
import { NotFoundError, PermissionError, UnsupportedOperationError } from "../../src/storage/index.ts";
import { runConformance } from "./conformance.ts";

interface ServerMode {
  ignoreRange?: boolean;
  noHead?: boolean;
  deny?: boolean;
}

/** A static file server for `root` supporting HEAD and single byte ranges. */
async function startStatic(root: string, mode: ServerMode = {}): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (mode.deny) {
        res.writeHead(403).end("forbidden");
        return;
      }
      if (req.method === "HEAD" && mode.noHead) {
        res.writeHead(405).end();
        return;
      }
      const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const file = join(root, rel);
      let data: Buffer;
      let mtime: Date;
      try {
        const st = await stat(file);
        if (!st.isFile()) throw new Error("not a file");
        data = await readFile(file);
        mtime = st.mtime;
      } catch {
        res.writeHead(404).end("not found");
        return;
      }
      const headers = {
        "last-modified": mtime.toUTCString(),
        etag: `"${createHash("md5").update(data).digest("hex")}"`,
        "accept-ranges": "bytes",
      };
      const range = req.headers.range;
      const m = range && !mode.ignoreRange ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
      if (m) {
        let start = m[1] ? Number(m[1]) : data.length - Number(m[2]);
        let end = m[1] && m[2] ? Number(m[2]) : data.length - 1;
        if (!m[1]) start = Math.max(start, 0);
        end = Math.min(end, data.length - 1);
        if (start >= data.length || start > end) {
          res.writeHead(416, { ...headers, "content-range": `bytes */${data.length}` }).end();
          return;
        }
        res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${data.length}`, "content-length": end - start + 1 });
        res.end(req.method === "HEAD" ? undefined : data.subarray(start, end + 1));
        return;
      }
      res.writeHead(200, { ...headers, "content-length": data.length });
      res.end(req.method === "HEAD" ? undefined : data);
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, server };
}

function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

function contextFor(mode: ServerMode) {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-http-"));
    const { url, server } = await startStatic(dir, mode);
    return {
      root: url,
      opts: {},
      writable: false,
      put: async (rel: string, data: Buffer) => {
        const file = join(dir, decodeURIComponent(rel));
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, data);
      },
      cleanup: async () => {
        await closeServer(server);
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
}

runConformance("http", contextFor({}));
runConformance("http (server ignores Range, refuses HEAD)", contextFor({ ignoreRange: true, noHead: true }));

describe("http backend specifics", () => {
  let dir = "";
  let base = "";
  let server: Server | undefined;
  let denied: Server | undefined;
  let deniedUrl = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "shoal-http-x-"));
    await writeFile(join(dir, "a.csv"), "x,y\n1,2\n");
    ({ url: base, server } = await startStatic(dir));
    ({ url: deniedUrl, server: denied } = await startStatic(dir, { deny: true }));
  });
  after(async () => {
    if (server) await closeServer(server);
    if (denied) await closeServer(denied);
    await rm(dir, { recursive: true, force: true });
  });

  it("stat reports size, mtime and etag from HEAD", async () => {
    const info = await storage.stat(`${base}a.csv`);
    assert.equal(info.size, 8);
    assert.ok(info.mtime.getTime() > 0);
    assert.match(info.etag ?? "", /^[0-9a-f]{32}$/);
  });

  it("is read-only: write, delete, list and glob say so", async () => {
    await assert.rejects(storage.write(`${base}new.txt`, "x"), UnsupportedOperationError);
    await assert.rejects(storage.delete(`${base}a.csv`), UnsupportedOperationError);
    await assert.rejects(storage.list(base), UnsupportedOperationError);
    await assert.rejects(storage.glob(`${base}*.csv`), UnsupportedOperationError);
    assert.deepEqual(await storage.expandPaths(`${base}a.csv`), [`${base}a.csv`]);
  });

  it("copies from http to memory", async () => {
    await storage.copy(`${base}a.csv`, "memory://http-copy/a.csv");
    assert.equal((await storage.read("memory://http-copy/a.csv")).toString(), "x,y\n1,2\n");
    await storage.delete("memory://http-copy/a.csv");
  });

  it("maps 403 to PermissionError and 404 to NotFoundError", async () => {
    await assert.rejects(storage.read(`${deniedUrl}a.csv`), PermissionError);
    await assert.rejects(storage.stat(`${base}nope.csv`), NotFoundError);
  });
});
