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

/** The first line of every command: which TensorFlow runs underneath. */
export function printBanner(command: string): void {
  // Loaded here, not at the top, so a bad argument is reported before TensorFlow starts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { describeBackend, requireNativeBackend } = require('../core/backend') as typeof import('../core/backend');
  console.log(`[${command}] ${describeBackend(requireNativeBackend())}`);
}

/** Runs main; any error becomes one line on stderr and exit code 1. */
export function runMain(main: () => Promise<number | void> | number | void): void {
  Promise.resolve()
    .then(main)
    .then((code) => {
      process.exitCode = typeof code === 'number' ? code : 0;
    })
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`error: ${message.split('\n')[0]}`);
      process.exitCode = 1;
    });
}

/**
 * Spawns a child that is stopped with us: SIGINT/SIGTERM are passed on, and the child's exit code
 * becomes ours. Resolves with the exit code (128 + signal number when killed by a signal).
 */
export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { cwd, env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => () => {
      child.kill(signal);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const cleanup = () => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
    };
    child.on('error', (err) => {
      cleanup();
      reject(err);
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
