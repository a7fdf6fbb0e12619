/**
 * A small Kinesis JSON client used by the consumer API: keep-alive
 * HTTP/1.1, SigV4-signed with `src/s3`'s signing functions when credentials
 * are given, errors as {@link StreamsClientError} with the server's type.
 */
import { Agent, request } from "node:http";
import { canonicalRequest, formatAmzDate, sha256Hex, signHex, signingKey, stringToSign } from "../s3/sigv4.ts";
import { StreamsClientError } from "./errors.ts";

/** Access keys for signing. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Calls Kinesis operations on one endpoint. */
export class KinesisHttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly url: URL;
  constructor(
    endpoint: string,
    private readonly credentials?: Credentials,
    private readonly region = "us-east-1",
  ) {
    this.url = new URL(endpoint);
  }

  private headers(body: Buffer, op: string): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `Kinesis_20131202.${op}`,
    };
    if (this.credentials === undefined) return h;
    const amzDate = formatAmzDate(Date.now());
    const date = amzDate.slice(0, 8);
    h["host"] = this.url.host;
    h["x-amz-date"] = amzDate;
    const names = Object.keys(h).sort();
    const canon = canonicalRequest({
      method: "POST",
      canonicalUri: "/",
      canonicalQuery: "",
      canonicalHeaders: names.map((n) => `${n}:${h[n]}\n`).join(""),
      signedHeaders: names.join(";"),
      payloadHash: sha256Hex(body),
    });
    const scope = `${date}/${this.region}/kinesis/aws4_request`;
    const sig = signHex(signingKey(this.credentials.secretAccessKey, date, this.region, "kinesis"), stringToSign(amzDate, scope, canon));
    h["authorization"] = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${sig}`;
    return h;
  }

  /** Sends one operation; resolves with the JSON answer. */
  call<T>(op: string, input: unknown): Promise<T> {
    return this.callBody<T>(op, Buffer.from(JSON.stringify(input)));
  }

  /** Sends one operation whose JSON body is already serialized. */
  callBody<T>(op: string, body: Buffer): Promise<T> {
    const headers = this.headers(body, op);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        { agent: this.agent, protocol: this.url.protocol, host: this.url.hostname, port: this.url.port, method: "POST", path: "/", headers: { ...headers, "content-length": String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            let doc: Record<string, unknown> = {};
            try {
              const text = Buffer.concat(chunks).toString("utf8");
              doc = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
            } catch (e) {
              reject(new StreamsClientError("SerializationException", "response is not JSON", status, { cause: e }));
              return;
            }
            if (status >= 300) {
              const type = String(doc["__type"] ?? "UnknownError").replace(/^.*#/, "");
              reject(new StreamsClientError(type, String(doc["message"] ?? doc["Message"] ?? ""), status));
            } else resolve(doc as T);
          });
          res.on("error", (e) => reject(new StreamsClientError("NetworkError", e.message, 0, { cause: e })));
        },
      );
      req.on("error", (e) => reject(new StreamsClientError("NetworkError", e.message, 0, { cause: e })));
      req.end(body);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}
