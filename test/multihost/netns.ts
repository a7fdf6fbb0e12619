// Linux network namespaces as test hosts: each host gets its own address on a
// bridge in the root namespace. Only these namespaces and loopback are ever
// traffic targets. Everything made here is torn down by `destroy()`, which is
// safe to call twice and after partial set-up.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";

export interface TestHost {
  name: string;
  ns: string;
  address: string;
  /** The root-side end of this host's veth (down = cable pulled). */
  link: string;
}

export interface TestNetwork {
  bridge: string;
  gateway: string;
  hosts: TestHost[];
  exec(host: TestHost, argv: string[], opts?: { env?: Record<string, string> }): ChildProcess;
  setLink(host: TestHost, up: boolean): void;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

export function canUseNetns(): string | null {
  if (process.getuid?.() !== 0) return "needs root (ip netns)";
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
  } catch {
    return "the ip command (iproute2) is not available";
  }
  return null;
}

export function createNetwork(nhosts: number): TestNetwork {
  const id = (process.pid % 4000).toString(36) + Math.floor(Math.random() * 36 ** 2).toString(36);
  const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`;
  const bridge = `sbr${id}`;
  const hosts: TestHost[] = [];
  const children: ChildProcess[] = [];
  const net: TestNetwork = {
    bridge,
    gateway: `${subnet}.1`,
    hosts,
    exec(host, argv, opts = {}) {
      const child = spawn("ip", ["netns", "exec", host.ns, ...argv], {
        env: { ...process.env, ...(opts.env ?? {}) },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      children.push(child);
      return child;
    },
    setLink(host, up) {
      ip("link", "set", host.link, up ? "up" : "down");
    },
    destroy() {
      for (const c of children) {
        try {
          if (c.pid) process.kill(-c.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      for (const h of hosts) {
        try { ip("link", "del", h.link); } catch { /* gone */ }
        try { ip("netns", "del", h.ns); } catch { /* gone */ }
      }
      try { ip("link", "del", bridge); } catch { /* gone */ }
    },
  };
  try {
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", `${net.gateway}/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    for (let i = 0; i < nhosts; i++) {
      const ns = `shoal-${id}-h${i + 1}`;
      const link = `sv${id}${i}`;
      const peer = `sp${id}${i}`;
      const host: TestHost = { name: `host${i + 1}`, ns, address: `${subnet}.${11 + i}`, link };
      ip("netns", "add", ns);
      hosts.push(host);
      ip("link", "add", link, "type", "veth", "peer", "name", peer);
      ip("link", "set", peer, "netns", ns);
      ip("link", "set", link, "master", bridge);
      ip("link", "set", link, "up");
      ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
      ip("netns", "exec", ns, "ip", "addr", "add", `${host.address}/24`, "dev", peer);
      ip("netns", "exec", ns, "ip", "link", "set", peer, "up");
      ip("netns", "exec", ns, "ip", "route", "add", "default", "via", net.gateway);
    }
  } catch (err) {
    net.destroy();
    throw err;
  }
  return net;
}
