import { test } from "node:test";
import assert from "node:assert/strict";
import { deserialize, serialize, TaskRef, OUT_OF_BAND_BYTES } from "../../src/protocol/serialize.ts";
import { asPayload, decodePacket, encodePacket, PacketReader } from "../../src/protocol/wire.ts";

test("user values round-trip with their JavaScript types", () => {
  const v = {
    n: 1.5, i: -7, s: "héllo", b: true, nul: null, arr: [1, "two", [3]],
    map: new Map<unknown, unknown>([["a", 1], [2, { x: 1 }]]), set: new Set([1, 2]), big: 2n ** 70n,
    date: new Date(1700000000000), f32: new Float32Array([1, 2.5]), buf: Buffer.from("abc"),
    err: new RangeError("bad"),
  };
  const back = deserialize(serialize(v)) as typeof v;
  assert.equal(back.s, "héllo");
  assert.deepEqual(back.map, v.map);
  assert.deepEqual(back.set, v.set);
  assert.equal(back.big, 2n ** 70n);
  assert.equal(back.date.getTime(), v.date.getTime());
  assert.ok(back.f32 instanceof Float32Array);
  assert.deepEqual([...back.f32], [1, 2.5]);
  assert.ok(Buffer.isBuffer(back.buf));
  assert.equal(back.buf.toString(), "abc");
  assert.equal(back.err.name, "RangeError");
});

test("large binary travels out of band without being copied into the header", () => {
  const big = new Float64Array(OUT_OF_BAND_BYTES);
  big[5] = 42;
  const p = serialize({ big });
  assert.equal(p.frames.length, 1);
  assert.ok(p.header.byteLength < 100);
  assert.equal(p.frames[0]!.buffer, big.buffer, "frame is a view of the original memory");
  const back = deserialize(p) as { big: Float64Array };
  assert.equal(back.big[5], 42);
});

test("task references resolve through the callback; functions are refused", () => {
  const p = serialize([new TaskRef("a-1"), { nested: new TaskRef("b-1") }]);
  const back = deserialize(p, (k) => `value of ${k}`);
  assert.deepEqual(back, ["value of a-1", { nested: "value of b-1" }]);
  assert.throws(() => serialize(() => 1), /function cannot be sent/);
});

test("packets survive arbitrary chunking and keep payload frames intact", () => {
  const big = Buffer.alloc(100_000, 7);
  const msgs = [
    { op: "a", x: 1 },
    { op: "b", value: asPayload(serialize({ big })) },
    { op: "c", s: "z".repeat(1000) },
  ];
  const bufs = encodePacket(msgs);
  const all = Buffer.concat(bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
  const twice = Buffer.concat([all, all]);
  for (const size of [1, 7, 4096, twice.length]) {
    const r = new PacketReader();
    const packets: Uint8Array[][] = [];
    for (let i = 0; i < twice.length; i += size) packets.push(...r.push(twice.subarray(i, i + size)));
    assert.equal(packets.length, 2, `chunk size ${size}`);
    const out = decodePacket(packets[1]!) as { op: string; value?: unknown; s?: string }[];
    assert.deepEqual(out.map((m) => m.op), ["a", "b", "c"]);
    const v = deserialize(out[1]!.value as never) as { big: Buffer };
    assert.equal(v.big.length, 100_000);
    assert.equal(v.big[99_999], 7);
    assert.equal(out[2]!.s!.length, 1000);
  }
});

test("a corrupt header is rejected", () => {
  const r = new PacketReader();
  const bad = Buffer.alloc(8);
  bad.writeUInt32LE(0xffffffff, 0);
  assert.throws(() => r.push(bad), /corrupt packet header/);
});

test("typed arrays decode from a Node Buffer packet at an unaligned offset (Buffer#slice is a view, not a copy)", () => {
  const h = serialize({ a: Float64Array.from([0, 1, 2, 3, 4, 5]), b: new ArrayBuffer(3) }).header;
  for (const off of [0, 1, 3, 8]) {
    const packet = Buffer.alloc(h.length + off + 5, 0xab);
    packet.set(h, off);
    const v = deserialize({ header: packet.subarray(off, off + h.length), frames: [] }) as { a: Float64Array; b: ArrayBuffer };
    assert.deepEqual([...v.a], [0, 1, 2, 3, 4, 5]);
    assert.equal(v.b.byteLength, 3);
  }
});
