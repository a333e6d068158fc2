/**
 * What every command shares: the project's folders, the Jupyter environment kept inside the
 * project, the banner with the backend versions, one-line errors, and child processes that are
 * stopped with their parent.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../core/paths';

/** The project root, for the commands' paths. */
export const ROOT = projectRoot();
export const VENV_PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
export const KERNEL_NAME = 'fmnist-ts';

/**
 * Jupyter's config, data and runtime folders inside the project, so nothing is written to the
 * user's ~/.jupyter or ~/.local/share/jupyter; the kernel spec lives in .venv/share/jupyter.
 */
export function jupyterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = path.join(ROOT, '.jupyter');
  for (const sub of ['config', 'data', 'runtime', 'ipython']) fs.mkdirSync(path.join(base, sub), { recursive: true });
  return {
    ...process.env,
    JUPYTER_CONFIG_DIR: path.join(base, 'config'),
    JUPYTER_DATA_DIR: path.join(base, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(base, 'runtime'),
    JUPYTER_PLATFORM_DIRS: '1',
    IPYTHONDIR: path.join(base, 'ipython'),
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    ...extra,
  };
}

export function requireVenv(): void {
  if (!fs.existsSync(VENV_PYTHON)) {
    throw new Error('the Python environment .venv is missing; run npm install');
  }
}

/**
 * FMNIST_DEBUG=1 adds the stack trace (JavaScript, and Python's in an export) to an error's one
 * line; without it, a user sees the line alone.
 */
export const DEBUG_ENV = 'FMNIST_DEBUG';
export const debugging = (env: NodeJS.ProcessEnv = process.env): boolean => env[DEBUG_ENV] === '1';

/** The first line of every command: which TensorFlow runs underneath. */
export function printBanner(command: string): void {
  // Loaded here, not at the top, so a bad argument is reported before TensorFlow starts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { describeBackend, requireNativeBackend } = require('../core/backend') as typeof import('../core/backend');
  console.log(`[${command}] ${describeBackend(requireNativeBackend())}`);
}

/** The ways a user stops a command: Ctrl-C, `kill`, a process manager, a closed terminal. */
const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof STOP_SIGNALS;

/** The children of this command (runChild, trackChild), stopped with it. */
const children = new Set<ChildProcess>();

/** How long children get to shut down cleanly (a kernel, Jupyter's runtime files) before SIGKILL. */
const CHILD_GRACE_MS = 8000;

/** How often a command looks whether the process that started it (npm, a shell) is still there. */
const PARENT_POLL_MS = 500;

/**
 * Ends the command when it is stopped, whichever way: SIGINT, SIGTERM or SIGHUP, sent to npm (which
 * passes SIGINT and SIGTERM on to the command, the package.json scripts `exec` it), to the
 * command itself, or to the whole process group; or its parent dying (npm killed, the terminal
 * gone), which is handled like SIGHUP. Children run in their own process group, so they hear of
 * it from here alone, as SIGTERM: Jupyter and the export runner shut their kernels down and remove
 * their runtime files on SIGTERM, while a SIGHUP or a second SIGINT would kill them on the spot.
 * The command then exits with 128 + the signal's number. Files are only ever written by rename
 * from a temporary name, and a handled signal is acted on between two synchronous writes, so an
 * exit here leaves nothing half-written.
 */
function stopOnSignals(command: string): void {
  let stopping: StopSignal | undefined;
  const stop = (signal: StopSignal) => {
    if (stopping) return;
    stopping = signal;
    const code = 128 + STOP_SIGNALS[signal];
    console.error(`\n[${command}] stopped (${signal})`);
    if (children.size === 0) process.exit(code);
    for (const child of children) child.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const child of children) child.kill('SIGKILL');
      process.exit(code);
    }, CHILD_GRACE_MS);
    const exitWhenDone = setInterval(() => {
      if (children.size > 0) return;
      clearTimeout(force);
      clearInterval(exitWhenDone);
      process.exit(code);
    }, 50);
  };
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(signal, () => stop(signal));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop('SIGHUP');
  }, PARENT_POLL_MS).unref();
}

/** Registers a child so that it is stopped with this command (see stopOnSignals). */
export function trackChild<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Runs main as the command named after its file (dist/cli/export.js: `export`); any error becomes
 * one line on stderr and exit code 1, and a stop signal ends it with its children (stopOnSignals).
 */
export function runMain(main: () => Promise<number | void> | number | void): void {
  stopOnSignals(path.basename(process.argv[1] ?? 'command', '.js'));
  Promise.resolve()
    .then(main)
    .then((code) => {
      process.exitCode = typeof code === 'number' ? code : 0;
    })
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`error: ${message.replace(/\s*\n\s*/g, ' ')}`);
      if (debugging() && err instanceof Error && err.stack) console.error(err.stack);
      process.exitCode = 1;
    });
}

/**
 * Spawns a child in its own process group that is stopped with us (stopOnSignals) and whose exit
 * code becomes ours. Resolves with the exit code (128 + signal number when killed by a signal).
 */
export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = trackChild(spawn(cmd, args, { cwd, env, stdio: 'inherit', detached: true }));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (signal && signal in STOP_SIGNALS ? STOP_SIGNALS[signal as StopSignal] : 0));
    });
  });
}

/**
 * Runs a child (in its own process group, stopped with this command) to its end with its output
 * captured; resolves to its wall time and stdout, rejects on a non-zero exit with the last line of
 * its stderr. The benchmarks' measurements each run in one.
 */
export function timedChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = trackChild(spawn(cmd, args, { cwd: ROOT, env: { ...env, TF_CPP_MIN_LOG_LEVEL: '2' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, stdout: out });
      else reject(new Error(`${what} failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}
