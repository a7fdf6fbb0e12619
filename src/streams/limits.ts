/**
 * Per-shard quotas for `--enforce-limits`, as AWS documents them for
 * provisioned streams: writes 1,000 records/s and 1 MiB/s per shard, reads
 * 5 GetRecords calls/s and 2 MiB/s per shard. One-second fixed windows.
 */

/** Quota values (per shard, per second). */
export interface Limits {
  writeRecords: number;
  writeBytes: number;
  readCalls: number;
  readBytes: number;
}

/** AWS's documented per-shard quotas. */
export const AWS_LIMITS: Limits = { writeRecords: 1000, writeBytes: 1024 * 1024, readCalls: 5, readBytes: 2 * 1024 * 1024 };

interface Window {
  second: number;
  records: number;
  bytes: number;
  calls: number;
  readBytes: number;
}

/** Counts use per (stream, shard) and says whether a new use fits. */
export class Limiter {
  private readonly windows = new Map<string, Window>();
  constructor(
    readonly limits: Limits,
    private readonly clock: () => number,
  ) {}

  private window(key: string): Window {
    const second = Math.floor(this.clock() / 1000);
    let w = this.windows.get(key);
    if (w === undefined || w.second !== second) {
      w = { second, records: 0, bytes: 0, calls: 0, readBytes: 0 };
      this.windows.set(key, w);
      if (this.windows.size > 100_000) this.windows.clear();
    }
    return w;
  }

  /** Takes one record of `bytes` from the shard's write quota; false if it does not fit. */
  tryWrite(key: string, bytes: number): boolean {
    const w = this.window(key);
    if (w.records + 1 > this.limits.writeRecords || w.bytes + bytes > this.limits.writeBytes) return false;
    w.records++;
    w.bytes += bytes;
    return true;
  }

  /** Takes one GetRecords call; false if the shard's call or byte quota is spent for this second. */
  tryRead(key: string): boolean {
    const w = this.window(key);
    if (w.calls + 1 > this.limits.readCalls || w.readBytes >= this.limits.readBytes) return false;
    w.calls++;
    return true;
  }

  /** Records the bytes a GetRecords call returned. */
  addRead(key: string, bytes: number): void {
    this.window(key).readBytes += bytes;
  }
}
