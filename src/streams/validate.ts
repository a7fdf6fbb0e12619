/**
 * Request validation with AWS's ValidationException wording:
 * `1 validation error detected: Value null at 'streamName' failed to satisfy
 * constraint: Member must not be null`.
 */
import { KinesisError } from "./errors.ts";

/** A request body after JSON parsing. */
export type Body = Record<string, unknown>;

/** Collects validation failures of one request and throws them together. */
export class Validator {
  private readonly errors: string[] = [];
  constructor(private readonly body: Body) {}

  private fail(value: unknown, member: string, constraint: string): void {
    const shown = value === undefined || value === null ? "null" : `'${typeof value === "object" ? JSON.stringify(value) : String(value)}'`;
    this.errors.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  private member(name: string): string {
    return name.charAt(0).toLowerCase() + name.slice(1);
  }

  /** A string member; `pattern` and lengths as in the AWS API model. */
  str(name: string, o: { required?: boolean; min?: number; max?: number; pattern?: RegExp; enum?: readonly string[] } = {}): string | undefined {
    const v = this.body[name];
    const m = this.member(name);
    if (v === undefined || v === null) {
      if (o.required) this.fail(v, m, "Member must not be null");
      return undefined;
    }
    if (typeof v !== "string") {
      throw new KinesisError("SerializationException", `Start of structure or map found where not expected for ${name}`);
    }
    if (o.pattern && !o.pattern.test(v)) this.fail(v, m, `Member must satisfy regular expression pattern: ${o.pattern.source}`);
    if (o.min !== undefined && v.length < o.min) this.fail(v, m, `Member must have length greater than or equal to ${o.min}`);
    if (o.max !== undefined && v.length > o.max) this.fail(v, m, `Member must have length less than or equal to ${o.max}`);
    if (o.enum && !o.enum.includes(v)) this.fail(v, m, `Member must satisfy enum value set: [${o.enum.join(", ")}]`);
    return v;
  }

  /** An integer member. */
  int(name: string, o: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.body[name];
    const m = this.member(name);
    if (v === undefined || v === null) {
      if (o.required) this.fail(v, m, "Member must not be null");
      return undefined;
    }
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new KinesisError("SerializationException", `NUMBER_VALUE cannot be converted to Integer for ${name}`);
    }
    if (o.min !== undefined && v < o.min) this.fail(v, m, `Member must have value greater than or equal to ${o.min}`);
    if (o.max !== undefined && v > o.max) this.fail(v, m, `Member must have value less than or equal to ${o.max}`);
    return v;
  }

  /** A timestamp member (epoch seconds as a number, or an ISO string), in ms. */
  time(name: string): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v * 1000;
    if (typeof v === "string") {
      const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
      if (!Number.isNaN(n)) return n;
    }
    throw new KinesisError("SerializationException", `Unable to parse ${name} as a timestamp`);
  }

  /** Throws the collected ValidationException, if any. */
  done(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw new KinesisError("ValidationException", `${n} validation error${n === 1 ? "" : "s"} detected: ${this.errors.join("; ")}`);
  }
}

/** Stream name pattern and length from the Kinesis API model. */
export const STREAM_NAME = { pattern: /^[a-zA-Z0-9_.-]+$/, min: 1, max: 128 } as const;

/** Reads StreamName or the name inside StreamARN. */
export function streamName(v: Validator, body: Body, required = true): string | undefined {
  const arn = v.str("StreamARN", { min: 1, max: 2048 });
  if (arn !== undefined) {
    const m = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/([a-zA-Z0-9_.-]+)$/.exec(arn);
    if (!m) throw new KinesisError("InvalidArgumentException", `Invalid StreamARN ${arn}`);
    return m[1];
  }
  return v.str("StreamName", { ...STREAM_NAME, required: required && body["StreamARN"] === undefined });
}
