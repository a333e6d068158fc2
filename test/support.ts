/**
 * Helpers for the tests that start real processes (commands, Jupyter, servers): waiting with a
 * bound, finding what a test started by a tag in its environment (kernels inherit it), and free
 * ports. Not part of the notebooks' API (index.ts does not export it).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../src/core/paths';
import { resetPlotlyBundleState } from '../src/display/display';

/**
 * A fresh folder under the system temp dir, removed when the test ends. Its permissions are given
 * back first, since a test may have taken them away to provoke an error.
 */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'fmnist-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => {
    fs.chmodSync(dir, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

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

/**
 * The live processes (other than this one) for which `keep` holds, read from /proc: a brand-new
 * machine need not have procps' ps and pgrep.
 */
export function processes(keep: (pid: number) => boolean = () => true): Proc[] {
  const found: Proc[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || !keep(pid) || !alive(pid)) continue;
    found.push({ pid, cmdline: (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim() });
  }
  return found;
}

/** The live processes whose environment holds TAG_ENV=tag. */
export function tagged(tag: string): Proc[] {
  const needle = `${TAG_ENV}=${tag}`;
  return processes((pid) => (readProc(pid, 'environ') ?? '').split('\0').includes(needle));
}

export interface Started {
  child: ChildProcess;
  tag: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts cmd in the project root as the leader of a new process group, tagged, its output collected. */
export function startTagged(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const tag = randomBytes(8).toString('hex');
  const child = spawn(cmd, args, {
    cwd: projectRoot(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Relative paths are the user's (INIT_CWD, as npm sets it): here, the project root.
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', INIT_CWD: projectRoot(), ...env, [TAG_ENV]: tag },
  });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return { child, tag, output: () => text, exited };
}

/** Whatever is left of a run: the group first, then tagged stragglers (a kernel has its own session). */
export function killEverything(run: Started): void {
  if (run.child.pid !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const p of tagged(run.tag)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
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

/** A learnable toy set: class c is a bright square at a class-specific place. */
export function toyData(n: number, seed = 1) {
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels[i] = c;
    const r0 = 2 + (c % 5) * 5;
    const c0 = c < 5 ? 4 : 16;
    for (let r = 0; r < 6; r++) for (let k = 0; k < 6; k++) images[i * 784 + (r0 + r) * 28 + c0 + k] = 200 + Math.floor(rand() * 55);
  }
  return { images, labels, count: n };
}

export interface DisplayMessage {
  data: Record<string, string>;
  transient: { display_id?: string };
}

/**
 * Pretends to be a tslab kernel: tslab's display API writes through this module's
 * lastWriteDisplayData, as the kernel sets it for each cell it runs.
 */
export function withFakeKernel(body: (messages: Array<{ msg: DisplayMessage; update: boolean }>) => void): void {
  const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  const saved = jupyter.lastWriteDisplayData;
  const messages: Array<{ msg: DisplayMessage; update: boolean }> = [];
  jupyter.lastWriteDisplayData = (msg: DisplayMessage, update: boolean) => messages.push({ msg, update });
  try {
    resetPlotlyBundleState();
    body(messages);
  } finally {
    jupyter.lastWriteDisplayData = saved;
    resetPlotlyBundleState();
  }
}
