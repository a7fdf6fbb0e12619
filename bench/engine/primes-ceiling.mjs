// The hardware ceiling for examples/primes.ts: the range counted by one
// process, then by two processes at once (half each); no Shoal involved.
//
//   node bench/engine/primes-ceiling.mjs [from 100000000] [to 108000000]
import { spawn } from "node:child_process";
const [lo, hi] = [Number(process.argv[2] ?? 100000000), Number(process.argv[3] ?? 108000000)];
const code = `function isPrime(n){if(n<2)return false;if(n%2===0)return n===2;if(n%3===0)return n===3;for(let i=5;i*i<=n;i+=6){if(n%i===0||n%(i+2)===0)return false}return true}
let c=0;for(let n=Number(process.argv[1]);n<Number(process.argv[2]);n++)if(isPrime(n))c++;console.log(c)`;
const run = (a, b) => new Promise((res) => { const p = spawn(process.execPath, ["-e", code, String(a), String(b)], { stdio: ["ignore", "pipe", "inherit"] }); let o = ""; p.stdout.on("data", (d) => (o += d)); p.on("exit", () => res(Number(o))); });
let t = performance.now();
await run(lo, hi);
const one = (performance.now() - t) / 1000;
t = performance.now();
const mid = Math.floor((lo + hi) / 2);
await Promise.all([run(lo, mid), run(mid, hi)]);
const two = (performance.now() - t) / 1000;
console.log(`one process ${one.toFixed(2)} s, two processes (half each) ${two.toFixed(2)} s, ceiling ${(one / two).toFixed(2)}x`);
