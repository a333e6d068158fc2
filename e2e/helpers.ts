/**
 * What the browser tests share: the project's paths, Debian's Chromium through playwright-core,
 * free ports, bounded waits, child processes that are always stopped (their whole process group,
 * SIGTERM then SIGKILL), and the in-page check that a Plotly figure really drew.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Browser, chromium, Page } from 'playwright-core';
// Shared with the other tests: test/support.ts is compiled along with this folder (e2e/tsconfig.json).
import { projectRoot } from '../src/core/paths';
import { freePort, sleep } from '../test/support';

export { freePort, sleep };

export const ROOT = projectRoot();
export const SCREENSHOTS = path.join(ROOT, 'screenshots');
export const CHROMIUM = process.env.FMNIST_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-gpu',
];

/** The project's compiled helpers must exist: the e2e tests drive dist/cli/*.js. */
export function requireBuild(): void {
  for (const file of ['dist/cli/common.js', 'dist/cli/export.js', 'dist/cli/tutorial.js']) {
    if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run npm install (or npm run build) first`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set FMNIST_CHROMIUM)`);
}

/** The project's Jupyter environment (config and runtime in .jupyter/), from dist/cli/common.js. */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  requireBuild();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const common = require(path.join(ROOT, 'dist', 'cli', 'common.js')) as {
    jupyterEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  };
  return common.jupyterEnv(extra);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}

/** Polls until check returns a value other than undefined/false; throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Live children of every test file, killed (SIGKILL, whole group) if the test process exits early. */
const liveGroups = new Set<number>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A child process in a process group of its own, its output kept (the last 200 kB) for the
 * failure message. stop() sends SIGTERM to the group, then SIGKILL after graceMs.
 */
export class Proc {
  readonly child: ChildProcess;
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ) {
    installExitHooks();
    this.child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${label}: could not start ${cmd}`);
    liveGroups.add(pid);
    const keep = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
      if (this.output.length > 200_000) this.output = this.output.slice(-150_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    this.exited.then(() => {
      // The group may still hold grandchildren; stop() takes care of them.
      if (!isAlive(pid)) liveGroups.delete(pid);
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  text(): string {
    return this.output;
  }

  tail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /** Waits (bounded) for the process to exit on its own; true if it did. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return done;
  }

  /** SIGTERM to the process group, SIGKILL after graceMs if the leader has not exited. */
  async stop(graceMs = 5000): Promise<void> {
    const pid = this.pid;
    if (this.running) {
      killGroup(pid, 'SIGTERM');
      if (!(await this.waitExit(graceMs))) {
        killGroup(pid, 'SIGKILL');
        await this.waitExit(5000);
      }
    }
    // Whatever else is left in the group (the leader may exit before its children).
    if (groupMembers(pid).length) {
      killGroup(pid, 'SIGKILL');
      await sleep(200);
    }
    liveGroups.delete(pid);
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }
}

/** PIDs of the processes in a process group, from ps. */
export function groupMembers(pgid: number): number[] {
  return psList()
    .filter((p) => p.pgid === pgid)
    .map((p) => p.pid);
}

export interface PsEntry {
  pid: number;
  ppid: number;
  pgid: number;
  args: string;
}

export function psList(): PsEntry[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), args: m[4] }));
}

/** Processes started by pid, at any depth. */
export function descendants(pid: number): PsEntry[] {
  const all = psList();
  const found: PsEntry[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift() as number;
    for (const p of all) {
      if (p.ppid === parent) {
        found.push(p);
        queue.push(p.pid);
      }
    }
  }
  return found;
}

/** `pgrep -f 'tslab/bin/tslab kernel'`, as PsEntry rows (empty when none). */
export function tslabKernels(): PsEntry[] {
  return psList().filter((p) => p.args.includes('tslab/bin/tslab kernel'));
}

/** Cleanup steps run in reverse order, each once, errors collected rather than thrown midway. */
export class Cleanup {
  private steps: { label: string; fn: () => Promise<void> | void }[] = [];

  add(label: string, fn: () => Promise<void> | void): void {
    this.steps.push({ label, fn });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    while (this.steps.length) {
      const step = this.steps.pop() as { label: string; fn: () => Promise<void> | void };
      try {
        await step.fn();
      } catch (err) {
        errors.push(`${step.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length) throw new Error(`cleanup failed: ${errors.join('; ')}`);
  }
}

export interface FigureState {
  id: string;
  drawn: boolean;
  traces: number;
  text: string;
}

/**
 * For each element matching selector (a `.fmnist-figure` div, or a Plotly graph div), whether
 * Plotly drew into it: the element is (or holds) a `.js-plotly-plot` with an `svg.main-svg` and at
 * least one drawn trace (a heatmap's image, a scatter or bar trace group).
 */
export async function figureStates(page: Page, selector: string): Promise<FigureState[]> {
  return page.evaluate((sel) => {
    return Array.from(document.querySelectorAll(sel)).map((el) => {
      const gd = el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
      const traces = gd ? gd.querySelectorAll('.heatmaplayer g.hm image, .scatterlayer g.trace, .barlayer g.trace').length : 0;
      const svg = gd ? gd.querySelector('svg.main-svg') : null;
      return {
        id: el.id,
        drawn: Boolean(gd && svg && traces > 0),
        traces,
        text: (el.textContent ?? '').replace(/\s+/g, ' ').trim().slice(0, 120),
      };
    });
  }, selector);
}

/** Repeats figureStates until every figure drew and there are `expected` of them. */
export async function waitForFigures(page: Page, selector: string, expected: number, timeoutMs: number): Promise<FigureState[]> {
  let last: FigureState[] = [];
  try {
    return await waitFor(
      `${expected} drawn figures (${selector})`,
      async () => {
        last = await figureStates(page, selector);
        return last.length >= expected && last.every((f) => f.drawn) ? last : undefined;
      },
      timeoutMs,
      500,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; figures now: ${JSON.stringify(last)}`);
  }
}

/** A page opened from file:// with every other request aborted, and what it tried and logged. */
export interface OfflinePage {
  page: Page;
  /** Requests that would have left the folder (aborted). */
  attempted: string[];
  consoleErrors: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openOffline(browser: Browser, file: string): Promise<OfflinePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  const attempted: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const local = (url: string): boolean => /^(file|data|blob|about):/.test(url);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    attempted.push(url);
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('request', (req) => {
    if (!local(req.url()) && !attempted.includes(req.url())) attempted.push(req.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
  return { page, attempted, consoleErrors, pageErrors, close: () => context.close() };
}
