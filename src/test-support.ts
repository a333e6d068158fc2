/**
 * Helpers for the tests that start real processes (commands, Jupyter, servers): waiting with a
 * bound, finding what a test started by a tag in its environment (kernels inherit it), and free
 * ports. Not part of the notebooks' API (index.ts does not export it).
 */
import fs from 'node:fs';
import net from 'node:net';

/** Every process a test starts carries TAG_ENV=<its tag>; children and kernels inherit it. */
export const TAG_ENV = 'FMNIST_TEST_TAG';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until fn returns a value other than undefined/false, or the time is up (then undefined). */
export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

export function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

export interface Proc {
  pid: number;
  cmdline: string;
}

/** The live processes whose environment holds TAG_ENV=tag. */
export function tagged(tag: string): Proc[] {
  const needle = `${TAG_ENV}=${tag}`;
  const found: Proc[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = readProc(pid, 'environ');
    if (!environ || !environ.split('\0').includes(needle) || !alive(pid)) continue;
    found.push({ pid, cmdline: (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim() });
  }
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
