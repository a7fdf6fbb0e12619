/**
 * `shoal streams serve`: run the Kinesis-compatible stream server.
 *
 *     shoal streams serve --root DIR [--host 127.0.0.1] [--port 4567]
 *                         [--user ACCESS_KEY:SECRET_KEY ...] [--fsync always|interval|never]
 *                         [--enforce-limits] [--segment-mb 64] [--shard-limit 500]
 *
 * Users come from every --user flag and SHOAL_STREAMS_USERS="AK:SK,AK2:SK2";
 * with none, requests are accepted without checking signatures.
 */
import { parseArgs } from "node:util";
import { parseUserSpec, parseUsersEnv } from "../s3/index.ts";
import { type FsyncPolicy, startStreamsServer } from "../streams/index.ts";

const USAGE = `usage: shoal streams serve --root DIR [options]

Serve the Kinesis Data Streams API, storing streams under DIR.

options:
  --root DIR          directory for stream logs (required; created if missing)
  --host HOST         interface to listen on (default 127.0.0.1)
  --port PORT         port to listen on (default 4567; 0 picks a free port)
  --user AK:SK        a user whose SigV4 signatures are verified (repeatable);
                      with no users, any request is accepted unsigned
  --fsync POLICY      always (default: fdatasync before each ack, group-committed),
                      interval (every 100 ms), never
  --enforce-limits    enforce AWS's per-shard quotas (1 MiB/s or 1000 records/s in,
                      2 MiB/s and 5 GetRecords/s out)
  --segment-mb N      roll log segments at N MiB (default 64; fractions allowed)
  --shard-limit N     most open shards in all (default 500)
  --no-http2          serve HTTP/1.1 only (default: HTTP/1.1 and h2c on one port)
  --quiet             do not log each request
  -h, --help          show this help

environment:
  SHOAL_STREAMS_USERS more users, "AK:SK,AK2:SK2"`;

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`--${name} must be a positive integer (got '${v}')`);
  return n;
}

function positiveMiB(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new TypeError(`--segment-mb must be a positive number (got '${v}')`);
  return Math.max(4096, Math.round(n * 1024 * 1024));
}

async function serve(argv: string[]): Promise<number> {
  let opts: Parameters<typeof startStreamsServer>[0];
  let quiet = false;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "4567" },
        user: { type: "string", multiple: true, default: [] },
        fsync: { type: "string", default: "always" },
        "enforce-limits": { type: "boolean", default: false },
        "segment-mb": { type: "string", default: "64" },
        "shard-limit": { type: "string", default: "500" },
        "no-http2": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
      },
    });
    if (positionals.length > 0) throw new TypeError(`unexpected argument '${positionals[0]}'`);
    if (values.root === undefined || values.root === "") throw new TypeError("--root DIR is required");
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be an integer from 0 to 65535 (got '${values.port}')`);
    const fsync = values.fsync as FsyncPolicy;
    if (!["always", "interval", "never"].includes(fsync)) throw new TypeError(`--fsync must be always, interval or never (got '${values.fsync}')`);
    const users = (values.user ?? []).map(parseUserSpec);
    users.push(...parseUsersEnv(process.env["SHOAL_STREAMS_USERS"]));
    quiet = values.quiet ?? false;
    opts = {
      root: values.root,
      host: values.host ?? "127.0.0.1",
      port,
      users,
      fsync,
      enforceLimits: values["enforce-limits"] ?? false,
      segmentBytes: positiveMiB(values["segment-mb"] ?? "64"),
      shardLimit: positiveInt("shard-limit", values["shard-limit"] ?? "500"),
      http2: !(values["no-http2"] ?? false),
    };
  } catch (e) {
    console.error(`shoal streams serve: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const server = await startStreamsServer({
    ...opts,
    ...(quiet ? {} : { onRequest: (l) => console.log(`${l.operation} ${l.status} ${l.ms.toFixed(1)}ms${l.error ? ` ${l.error}` : ""}`) }),
  });
  console.log(`shoal streams: listening on ${server.url} (root ${opts.root}, fsync ${opts.fsync}, ${opts.users?.length ?? 0} user(s))`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      console.log(`shoal streams: ${sig}, shutting down`);
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      void server.close().then(resolve);
    };
    const onInt = (): void => stop("SIGINT");
    const onTerm = (): void => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  return 0;
}

/** Entry point for `shoal streams ...`. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "serve") {
    console.error(`shoal streams: unknown subcommand '${sub}' (expected 'serve')\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  return serve(rest);
}
