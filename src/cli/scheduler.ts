/** `shoal scheduler`: run a scheduler in the foreground. */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { SchedulerServer } from "../scheduler/server.ts";
import { formatAddress } from "../comm/address.ts";
import { log } from "../utils/log.ts";
import { isLoopback, runCli, UsageError } from "./options.ts";

const USAGE = `usage: shoal scheduler [options]

  --host HOST            address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)
  --port PORT            port (default 8786; 0 = any free port)
  --protocol tcp|tls     transport (default tcp; tls needs --tls-cert and --tls-key)
  --token TOKEN          cluster token clients and workers must present (or SHOAL_TOKEN);
                         required when listening on anything but loopback
  --worker-ttl SECONDS   remove workers silent for this long (default 30)
  --tls-cert FILE --tls-key FILE [--tls-ca FILE]
  --scheduler-file FILE  write the scheduler address to FILE (JSON) for workers and clients`;

export async function run(argv: string[]): Promise<number> {
  return runCli("scheduler", USAGE, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        protocol: { type: "string" },
        token: { type: "string" },
        "worker-ttl": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        "scheduler-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const host = values.host ?? "127.0.0.1";
    const port = values.port === undefined ? 8786 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer in 0..65535, got '${values.port}'`);
    const protocol = values.protocol ?? (values["tls-cert"] ? "tls" : "tcp");
    if (protocol !== "tcp" && protocol !== "tls") throw new UsageError(`--protocol must be tcp or tls, got '${protocol}'`);
    const token = values.token ?? process.env["SHOAL_TOKEN"];
    if (!isLoopback(host) && !token) {
      throw new UsageError(
        `refusing to listen on ${host} without a cluster token: anyone who can reach the port could run code on your workers. ` +
          `Pass --token SECRET (or set SHOAL_TOKEN) here and on every worker and client.`,
      );
    }
    const ttl = values["worker-ttl"] === undefined ? undefined : Number(values["worker-ttl"]);
    if (ttl !== undefined && !(ttl > 0)) throw new UsageError(`--worker-ttl must be a positive number of seconds`);
    let tls;
    if (protocol === "tls") {
      if (!values["tls-cert"] || !values["tls-key"]) throw new UsageError("tls needs --tls-cert and --tls-key");
      tls = {
        cert: readFileSync(values["tls-cert"]),
        key: readFileSync(values["tls-key"]),
        ...(values["tls-ca"] ? { ca: readFileSync(values["tls-ca"]) } : {}),
      };
    }
    const server = new SchedulerServer({
      address: formatAddress(protocol, host, port),
      ...(token ? { token } : {}),
      ...(ttl !== undefined ? { workerTtl: ttl } : {}),
      ...(tls ? { listen: { tls } } : {}),
    });
    await server.start();
    log("scheduler", `listening at ${server.address}${token ? " (token required)" : ""}`);
    if (values["scheduler-file"]) {
      const { writeFileSync } = await import("node:fs");
      writeFileSync(values["scheduler-file"], JSON.stringify({ address: server.address, id: server.id }) + "\n");
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        log("scheduler", `${sig}: shutting down`);
        resolve();
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    await server.close();
    return 0;
  });
}
