// Tiny UDP tools run inside host namespaces with the current node binary, because the machine
// has no ping. Each script is inline (node -e) so nothing has to be built or copied first, and
// each one is bounded in time and in packets.
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { Host } from './host.js';
import type { Lan } from './lan.js';

// Echoes every datagram back to its real source; prints "ready" once bound.
const ECHO_SCRIPT = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));
`;

// Sends argv count datagrams "seq" to addr:port, waits waitMs after the last one, prints the
// number of distinct replies.
const PING_SCRIPT = `
const [addr, port, count, waitMs] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
const seen = new Set();
s.on('message', (m) => seen.add(m.toString()));
s.on('error', (e) => { console.error(e.message); process.exit(2); });
s.bind(0, () => {
  let i = 0;
  const tick = () => {
    if (i >= Number(count)) { setTimeout(() => { console.log(seen.size); s.close(); }, Number(waitMs)); return; }
    s.send(String(i++), Number(port), addr, () => setTimeout(tick, 1));
  };
  tick();
});
`;

// Prints one JSON line {from, text} per datagram; prints "ready" once bound.
const LISTEN_SCRIPT = `
const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m, r) => console.log(JSON.stringify({ from: r.address, text: m.toString() })));
s.bind(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));
`;

// Sends one datagram, with SO_BROADCAST set so broadcast addresses are allowed.
const SEND_SCRIPT = `
const [addr, port, text] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
s.bind(0, () => { s.setBroadcast(true); s.send(text, Number(port), addr, (e) => { if (e) { console.error(e.message); process.exit(2); } s.close(); }); });
`;

export interface UdpListener {
  readonly messages: { from: string; text: string }[];
  stop(): void;
}

/** Starts a UDP echo server on host:port and resolves once it is bound. */
export async function startUdpEcho(lan: Lan, host: Host, port: number): Promise<ChildProcess> {
  const child = lan.spawn(host, process.execPath, ['-e', ECHO_SCRIPT, String(port)]);
  await waitForLine(child, (line) => line === 'ready', 10_000);
  return child;
}

/** Sends `count` datagrams to an echo server and returns how many came back. */
export async function udpPing(lan: Lan, from: Host, toAddress: string, port: number, count = 3, waitMs = 300): Promise<number> {
  const res = await lan.exec(from, process.execPath, ['-e', PING_SCRIPT, toAddress, String(port), String(count), String(waitMs)], {
    timeoutMs: 10_000 + count * 20 + waitMs,
  });
  return Number(res.stdout.trim());
}

/** Starts a listener that collects every datagram arriving on host:port. */
export async function startUdpListener(lan: Lan, host: Host, port: number): Promise<UdpListener> {
  const child = lan.spawn(host, process.execPath, ['-e', LISTEN_SCRIPT, String(port)]);
  const messages: { from: string; text: string }[] = [];
  await waitForLine(child, (line) => line === 'ready', 10_000);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) messages.push(JSON.parse(line) as { from: string; text: string });
  });
  return { messages, stop: () => child.kill('SIGKILL') };
}

/** Sends one datagram from a host (broadcast addresses allowed). */
export async function sendUdp(lan: Lan, from: Host, toAddress: string, port: number, text: string): Promise<void> {
  await lan.exec(from, process.execPath, ['-e', SEND_SCRIPT, toAddress, String(port), text]);
}

/** Resolves on the first stdout line that matches; rejects on exit or after timeoutMs. */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      fn();
    };
    const onExit = (code: number | null): void => done(() => reject(new Error(`process exited (${code}) before ready: ${stderr.trim()}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`no matching line within ${timeoutMs} ms: ${stderr.trim()}`))), timeoutMs);
    lines.on('line', (line) => {
      if (match(line)) done(() => resolve(line));
    });
    child.once('exit', onExit);
  });
}

/** Polls until check() is true or the deadline passes (bounded), returning the last result. */
export async function pollUntil(check: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
