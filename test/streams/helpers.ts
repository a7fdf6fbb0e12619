/**
 * Helpers for the streams tests: a server in this process or as a child
 * process (`shoal streams serve`), unique stream names, and real-client
 * environment settings.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type StreamsServer, type StreamsServerOptions, startStreamsServer } from "../../src/streams/index.ts";

export const USER = { accessKey: "AKSTREAMS", secretKey: "streams-secret" } as const;

let n = 0;
/** A stream name unique to this process and call. */
export function streamName(prefix = "t"): string {
  return `${prefix}-${process.pid}-${++n}`;
}

/** A server on port 0 in a fresh temporary root. */
export async function startTestServer(o: Partial<StreamsServerOptions> = {}): Promise<StreamsServer & { root: string; dispose(): Promise<void> }> {
  const root = o.root ?? (await mkdtemp(join(tmpdir(), "shoal-streams-")));
  const srv = await startStreamsServer({ port: 0, users: [USER], ...o, root });
  return Object.assign(srv, {
    root,
    async dispose() {
      await srv.close();
      await rm(root, { recursive: true, force: true });
    },
  });
}

const ENTRY = `import { run } from ${JSON.stringify(new URL("../../src/cli/streams.ts", import.meta.url).href)}; process.exitCode = await run(process.argv.slice(1));`;

/** Spawns `shoal streams serve` and resolves with its URL once it listens. */
export function spawnServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", ENTRY, "serve", "--quiet", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        child.stdout?.off("data", onData);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
}

/** Environment for the AWS CLI / boto3 with the test user's keys and no local config. */
export function awsEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: USER.accessKey,
    AWS_SECRET_ACCESS_KEY: USER.secretKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_REGION: "us-east-1",
    AWS_PAGER: "",
    AWS_CONFIG_FILE: join(dir, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  };
}
