/**
 * `npm start`: JupyterLab from the project's .venv on 127.0.0.1, opened on notebooks/, with a
 * fresh token in the URL. Ctrl-C stops the server and its kernels. FMNIST_LAB_IP changes the
 * address it listens on: the container image sets 0.0.0.0, since a published port reaches the
 * container from outside its own loopback. Unknown flags (`--ServerApp.x=…`) go on to Jupyter.
 *
 * Two `npm start`s at once must not both take one port. Left to itself, Jupyter tries a port,
 * moves up when it is taken, and only then says where it is; two servers starting together can
 * pick the same port, and the loser fails. So the port is claimed here first: a lock file per
 * port (`.jupyter/ports/<port>.lock`, made only where none exists and holding this pid; a stale
 * one from a dead process is taken over) settles it between our own commands, and a test bind settles it
 * against any other program. Jupyter then gets that port with port_retries=0, so it binds exactly
 * there or fails. The URL printed is read from Jupyter's own runtime file (jpserver-<pid>.json,
 * written once it listens), so it is always the server's real address; and when Jupyter exits,
 * whatever runtime file it left is removed, so a failed start leaves no token behind.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { commandLine } from './args';
import { ROOT, VENV_PYTHON, jupyterEnv, printBanner, requireVenv, runMain, trackChild } from './common';
import { takeLock } from './preflight';
import { spawn } from 'node:child_process';

export const LAB_COMMAND = {
  command: 'npm start',
  summary:
    'Starts JupyterLab on notebooks/ with the fmnist-ts kernel, on 127.0.0.1 from port 8888 up (FMNIST_LAB_PORT, FMNIST_LAB_IP and ' +
    'FMNIST_LAB_TOKEN change them), and prints its URL. Ctrl-C stops it and its kernels.',
  options: {},
  passUnknownTo: 'JupyterLab',
} as const;

/** How many ports above the first one are tried, as Jupyter's own port_retries default. */
const PORT_TRIES = 50;
/** How long Jupyter gets to start listening before the URL is given up on. */
const START_TIMEOUT_MS = 120_000;

/** True when nothing listens on ip:port (a bind succeeds); the test socket is closed again. */
function portFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first port from `first` up that no other `npm start` has claimed and nothing listens on. */
async function claimPort(ip: string, first: number): Promise<{ port: number; release: () => void }> {
  const locks = path.join(ROOT, '.jupyter', 'ports');
  for (let port = first; port < first + PORT_TRIES && port <= 65535; port++) {
    const taken = takeLock(path.join(locks, `${port}.lock`), (line) => console.error(`[start] ${line}`));
    if (typeof taken !== 'function') {
      console.error(`[start] port ${port} is taken by another npm start (process ${taken.heldBy}); trying ${port + 1}`);
      continue;
    }
    if (await portFree(ip, port)) return { port, release: taken };
    taken();
    console.error(`[start] port ${port} is in use by another program; trying ${port + 1}`);
  }
  throw new Error(`no free port from ${first} to ${first + PORT_TRIES - 1} on ${ip} (FMNIST_LAB_PORT chooses the first)`);
}

interface ServerInfo {
  url: string;
  token: string;
  port: number;
}

function readServerInfo(file: string): ServerInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return undefined; // Not written yet, or being written.
  }
}

runMain(async () => {
  const { passOn } = commandLine(LAB_COMMAND);
  requireVenv();
  const firstPort = Number(process.env.FMNIST_LAB_PORT || '8888');
  if (!Number.isInteger(firstPort) || firstPort < 1 || firstPort > 65535) throw new Error(`FMNIST_LAB_PORT=${process.env.FMNIST_LAB_PORT}: must be a port number from 1 to 65535`);
  printBanner('start');
  const token = process.env.FMNIST_LAB_TOKEN || randomBytes(24).toString('hex');
  const ip = process.env.FMNIST_LAB_IP || '127.0.0.1';
  const { port, release } = await claimPort(ip, firstPort);
  const args = [
    // parent_watch stops Jupyter (as SIGTERM does, kernels included) should this command be killed.
    path.join(ROOT, 'scripts', 'parent_watch.py'), '-m', 'jupyterlab',
    `--ServerApp.ip=${ip}`,
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--ServerApp.root_dir=${path.join(ROOT, 'notebooks')}`,
    `--IdentityProvider.token=${token}`,
    '--MappingKernelManager.default_kernel_name=fmnist-ts',
    // Jupyter refuses to run as root unless told; containers often run as root.
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ...passOn,
  ];
  const env = jupyterEnv();
  const runtime = env.JUPYTER_RUNTIME_DIR!;
  const child = trackChild(spawn(VENV_PYTHON, args, { cwd: ROOT, env, stdio: 'inherit', detached: true }));
  // parent_watch runs Jupyter in its own process, so the runtime files carry the child's pid.
  const infoFile = path.join(runtime, `jpserver-${child.pid}.json`);
  const leftovers = [infoFile, path.join(runtime, `jpserver-${child.pid}-open.html`)];
  // On every way out, a stop signal included (common.ts ends those with process.exit once the
  // children are gone): a server that did not remove its runtime file leaves no token behind.
  const removeLeftovers = () => leftovers.forEach((file) => fs.rmSync(file, { force: true }));
  process.once('exit', removeLeftovers);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143)));
  });
  const started = Date.now();
  const announce = setInterval(() => {
    const info = readServerInfo(infoFile);
    if (info?.url && info.token !== undefined) {
      clearInterval(announce);
      console.log(`[start] JupyterLab on ${info.url}lab?token=${info.token} (port ${info.port}, process ${child.pid})`);
    } else if (Date.now() - started > START_TIMEOUT_MS) {
      clearInterval(announce);
      console.error(`[start] Jupyter has not started listening after ${START_TIMEOUT_MS / 1000} s; see its output above`);
    }
  }, 200);
  try {
    return await exited;
  } finally {
    clearInterval(announce);
    removeLeftovers();
    release();
  }
});
