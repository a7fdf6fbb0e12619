/**
 * TIMESTAMP values for S3 Select: parsing (ISO 8601 extended and basic
 * forms, as `TO_TIMESTAMP` and `CAST(x AS TIMESTAMP)` accept), printing,
 * `EXTRACT`, `DATE_ADD`, `DATE_DIFF` and `TO_STRING` patterns.
 */

const EXTENDED = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[Tt ](?:(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const BASIC = /^(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** A point in time with the UTC offset it was written in. */
export class Timestamp {
  /**
   * @param epochMs milliseconds since 1970-01-01T00:00:00Z
   * @param offsetMin the offset from UTC it is shown in, in minutes
   */
  constructor(
    readonly epochMs: number,
    readonly offsetMin = 0,
  ) {}

  /** Parses `2007-02-23T12:14:33.079-08:00`, `2007T`, `20070223T121433Z`, …; undefined if not a timestamp. */
  static parse(text: string): Timestamp | undefined {
    const s = text.trim();
    const m = EXTENDED.exec(s) ?? BASIC.exec(s);
    if (m === null) return undefined;
    const [, y, mo, d, h, mi, sec, frac, tz] = m;
    const month = mo === undefined ? 1 : Number(mo);
    const day = d === undefined ? 1 : Number(d);
    const hour = h === undefined ? 0 : Number(h);
    const minute = mi === undefined ? 0 : Number(mi);
    const second = sec === undefined ? 0 : Number(sec);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
    const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
    let offset = 0;
    if (tz !== undefined && tz !== "Z" && tz !== "z") {
      const sign = tz[0] === "-" ? -1 : 1;
      const digits = tz.slice(1).replace(":", "");
      offset = sign * (Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0));
    }
    const date = new Date(0);
    date.setUTCFullYear(Number(y), month - 1, day);
    date.setUTCHours(hour, minute, second, ms);
    if (date.getUTCDate() !== day) return undefined; // 2023-02-30
    return new Timestamp(date.getTime() - offset * 60_000, offset);
  }

  /** The wall-clock fields in this timestamp's own offset. */
  local(): Date {
    return new Date(this.epochMs + this.offsetMin * 60_000);
  }

  /** ISO 8601: `2007-02-23T12:14:33Z`, with `.079` when there are milliseconds and `-08:00` for an offset. */
  toString(): string {
    const d = this.local();
    const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
    const frac = d.getUTCMilliseconds() === 0 ? "" : `.${pad(d.getUTCMilliseconds(), 3)}`;
    return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}${offsetText(this.offsetMin, true, true)}`;
  }
}

function offsetText(min: number, colon: boolean, zulu: boolean, minutes = true): string {
  if (min === 0 && zulu) return "Z";
  const sign = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  const hh = String(Math.floor(a / 60)).padStart(2, "0");
  const mm = String(a % 60).padStart(2, "0");
  return minutes ? `${sign}${hh}${colon ? ":" : ""}${mm}` : `${sign}${hh}`;
}

/** Date parts accepted by EXTRACT, DATE_ADD and DATE_DIFF. */
export type DatePart = "year" | "month" | "day" | "hour" | "minute" | "second" | "timezone_hour" | "timezone_minute";

/** The parts each function accepts. */
export const DATE_PARTS: readonly DatePart[] = ["year", "month", "day", "hour", "minute", "second", "timezone_hour", "timezone_minute"];

/** EXTRACT(part FROM ts). */
export function extract(part: DatePart, t: Timestamp): bigint {
  const d = t.local();
  switch (part) {
    case "year":
      return BigInt(d.getUTCFullYear());
    case "month":
      return BigInt(d.getUTCMonth() + 1);
    case "day":
      return BigInt(d.getUTCDate());
    case "hour":
      return BigInt(d.getUTCHours());
    case "minute":
      return BigInt(d.getUTCMinutes());
    case "second":
      return BigInt(d.getUTCSeconds());
    case "timezone_hour":
      return BigInt(Math.trunc(t.offsetMin / 60));
    case "timezone_minute":
      return BigInt(t.offsetMin % 60);
  }
}

const UNIT_MS = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 } as const;

/** DATE_ADD(part, n, ts). Adding months keeps the day of month, clamped to the month's last day. */
export function dateAdd(part: DatePart, n: number, t: Timestamp): Timestamp {
  if (part === "year" || part === "month") {
    const d = t.local();
    const months = part === "year" ? n * 12 : n;
    const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
    const y = Math.floor(total / 12);
    const m = total - y * 12;
    const lastOfMonth = new Date(0);
    lastOfMonth.setUTCFullYear(y, m + 1, 0);
    const day = Math.min(d.getUTCDate(), lastOfMonth.getUTCDate());
    const out = new Date(0);
    out.setUTCFullYear(y, m, day);
    out.setUTCHours(d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
    return new Timestamp(out.getTime() - t.offsetMin * 60_000, t.offsetMin);
  }
  if (part === "timezone_hour" || part === "timezone_minute") throw new RangeError(`DATE_ADD does not take ${part}`);
  return new Timestamp(t.epochMs + n * UNIT_MS[part], t.offsetMin);
}

/** DATE_DIFF(part, a, b): whole `part`s from a to b (negative when b is earlier). */
export function dateDiff(part: DatePart, a: Timestamp, b: Timestamp): bigint {
  if (part === "year" || part === "month") {
    const da = new Date(a.epochMs);
    const db = new Date(b.epochMs);
    let months = (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + (db.getUTCMonth() - da.getUTCMonth());
    const restA = a.epochMs - Date.UTC(da.getUTCFullYear(), da.getUTCMonth(), 1);
    const restB = b.epochMs - Date.UTC(db.getUTCFullYear(), db.getUTCMonth(), 1);
    if (months > 0 && restB < restA) months--;
    else if (months < 0 && restB > restA) months++;
    return BigInt(part === "year" ? Math.trunc(months / 12) : months);
  }
  if (part === "timezone_hour" || part === "timezone_minute") throw new RangeError(`DATE_DIFF does not take ${part}`);
  return BigInt(Math.trunc((b.epochMs - a.epochMs) / UNIT_MS[part]));
}

const PATTERN = /'[^']*'|y+|M+|d+|a|h+|H+|m+|s+|S+|n|X+|x+|[\s\S]/g;

/** TO_STRING(ts, pattern) with the pattern letters of S3 Select (yyyy, MM, dd, HH, mm, ss, SSS, X, x, …). */
export function formatTimestamp(t: Timestamp, pattern: string): string {
  const d = t.local();
  const pad = (n: number, w: number): string => String(n).padStart(w, "0");
  return pattern.replace(PATTERN, (tok) => {
    const c = tok[0]!;
    const w = tok.length;
    switch (c) {
      case "'":
        return w === 2 ? "'" : tok.slice(1, -1);
      case "y": {
        const y = d.getUTCFullYear();
        return w === 2 ? pad(y % 100, 2) : pad(y, w);
      }
      case "M": {
        const m = d.getUTCMonth();
        if (w >= 5) return MONTHS[m]!.slice(0, 1);
        if (w === 4) return MONTHS[m]!;
        if (w === 3) return MONTHS[m]!.slice(0, 3);
        return pad(m + 1, w);
      }
      case "d":
        return pad(d.getUTCDate(), w);
      case "a":
        return d.getUTCHours() < 12 ? "AM" : "PM";
      case "h":
        return pad(((d.getUTCHours() + 11) % 12) + 1, w);
      case "H":
        return pad(d.getUTCHours(), w);
      case "m":
        return pad(d.getUTCMinutes(), w);
      case "s":
        return pad(d.getUTCSeconds(), w);
      case "S":
        return pad(d.getUTCMilliseconds(), 3).padEnd(w, "0").slice(0, w);
      case "n":
        return String(d.getUTCMilliseconds() * 1_000_000);
      case "X":
        return w === 1 ? (t.offsetMin === 0 ? "Z" : offsetText(t.offsetMin, false, false, t.offsetMin % 60 !== 0)) : offsetText(t.offsetMin, w >= 3, true);
      case "x":
        return w === 1 ? offsetText(t.offsetMin, false, false, t.offsetMin % 60 !== 0) : offsetText(t.offsetMin, w >= 3, false);
      default:
        return tok;
    }
  });
}
