/**
 * `shoal s3 serve`: run the S3-compatible server.
 *
 *     shoal s3 serve --root DIR [--host 127.0.0.1] [--port 9000]
 *                    [--user ACCESS_KEY:SECRET_KEY ...] [--config FILE] [--region us-east-1]
 *
 * Users come from every --user flag, the --config JSON file
 * (`{"users": [{"accessKey", "secretKey", "id"?, "displayName"?}], "region"?}`)
 * and SHOAL_S3_USERS="AK:SK,AK2:SK2".
 */
import { parseArgs } from "node:util";
import { type S3UserInput, parseUserSpec, parseUsersEnv, readUsersConfig, startS3Server } from "../s3/index.ts";

const USAGE = `usage: shoal s3 serve --root DIR [options]

Serve an S3-compatible API storing buckets and objects under DIR.

options:
  --root DIR          directory for buckets and objects (required; created if missing)
  --host HOST         interface to listen on (default 127.0.0.1)
  --port PORT         port to listen on (default 9000; 0 picks a free port)
  --user AK:SK        a user's access key and secret key (repeatable)
  --config FILE       JSON file: {"users": [{"accessKey": "...", "secretKey": "...",
                      "id"?: "...", "displayName"?: "..."}], "region"?: "..."}
  --region REGION     region to report (default us-east-1)
  --quiet             do not log each request
  -h, --help          show this help

environment:
  SHOAL_S3_USERS      more users, "AK:SK,AK2:SK2"`;

interface ServeOptions {
  root: string;
  host: string;
  port: number;
  users: S3UserInput[];
  region: string;
  quiet: boolean;
}

function parseServe(argv: string[]): ServeOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "9000" },
      user: { type: "string", multiple: true, default: [] },
      config: { type: "string" },
      region: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 0) throw new TypeError(`unexpected argument '${positionals[0]}'`);
  if (values.root === undefined || values.root === "") throw new TypeError("--root DIR is required");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be an integer from 0 to 65535 (got '${values.port}')`);
  const users = (values.user ?? []).map(parseUserSpec);
  let region = values.region;
  if (values.config !== undefined) {
    const cfg = readUsersConfig(values.config);
    users.push(...cfg.users);
    region ??= cfg.region;
  }
  users.push(...parseUsersEnv(process.env["SHOAL_S3_USERS"]));
  return { root: values.root, host: values.host ?? "127.0.0.1", port, users, region: region ?? "us-east-1", quiet: values.quiet ?? false };
}

async function serve(argv: string[]): Promise<number> {
  let opts: ServeOptions;
  try {
    opts = parseServe(argv);
  } catch (e) {
    console.error(`shoal s3 serve: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.users.length === 0) {
    console.error("shoal s3 serve: warning: no users configured; only anonymous access to public buckets is possible (add --user AK:SK)");
  }
  const server = await startS3Server({
    root: opts.root,
    host: opts.host,
    port: opts.port,
    users: opts.users,
    region: opts.region,
    ...(opts.quiet ? {} : { onRequest: (l) => console.log(`${l.method} ${l.url} ${l.status} ${l.ms}ms${l.error ? ` ${l.error.code}` : ""}`) }),
  });
  console.log(`shoal s3: listening on ${server.url} (root ${opts.root}, ${opts.users.length} user(s), region ${opts.region})`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      console.log(`shoal s3: ${sig}, shutting down`);
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

/** Entry point for `shoal s3 ...`. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "serve") {
    console.error(`shoal s3: unknown subcommand '${sub}' (expected 'serve')\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  return serve(rest);
}
