/**
 * `npm run tensorboard [-- --logdir logs --port 6006]`: TensorBoard from the project's .venv on
 * 127.0.0.1, showing the runs that fit's TensorBoard callback writes under logs/ (a run appears
 * while it trains). Ctrl-C stops it. TensorBoard comes from requirements.txt, installed with the
 * rest of .venv by `npm install`, so it starts offline.
 */
import { lookup } from 'node:dns/promises';
import fs from 'node:fs';
import path from 'node:path';
import { logsDir } from '../core/paths';
import { commandLine } from './args';
import { ROOT, VENV_PYTHON, requireVenv, runChild, runMain } from './common';
import { userPath } from './preflight';

export const TENSORBOARD_COMMAND = {
  command: 'npm run tensorboard',
  summary: "Serves TensorBoard from the project's .venv on 127.0.0.1 over the runs that fit's TensorBoard callback writes.",
  options: {
    logdir: { type: 'string', value: 'FOLDER', help: 'the folder of runs (default: logs/, or FMNIST_LOGS_DIR)' },
    // TensorBoard's own default port.
    port: { type: 'integer', default: 6006, min: 1, max: 65535, help: 'the port on 127.0.0.1' },
  },
} as const;

runMain(async () => {
  const { options } = commandLine(TENSORBOARD_COMMAND);
  const logdir = options.logdir === undefined ? logsDir() : userPath(options.logdir);
  const port = options.port;
  requireVenv();
  const probe = path.join(ROOT, '.venv', 'bin', 'tensorboard');
  if (!fs.existsSync(probe)) throw new Error('TensorBoard is not installed in .venv; run npm run setup (it installs requirements.txt)');
  if (fs.existsSync(logdir) && !fs.statSync(logdir).isDirectory()) throw new Error(`--logdir ${logdir}: a file, not a folder`);
  // TensorBoard checks its port through the name localhost before it binds, and ends in a Python
  // traceback where that name does not resolve (a bare root without /etc/hosts).
  await lookup('localhost').catch(() => {
    throw new Error("localhost does not resolve on this machine; TensorBoard needs it (add '127.0.0.1 localhost' to /etc/hosts)");
  });
  // Made when missing, so that TensorBoard can be started before the first training writes to it.
  fs.mkdirSync(logdir, { recursive: true });
  console.log(`[tensorboard] http://127.0.0.1:${port}/ showing the runs in ${path.relative(process.cwd(), logdir) || '.'}`);
  // parent_watch stops TensorBoard (SIGTERM, as a Ctrl-C here does) should this command be killed outright.
  const args = [path.join(ROOT, 'scripts', 'parent_watch.py'), '-m', 'tensorboard.main', '--logdir', logdir, '--host', '127.0.0.1', '--port', String(port)];
  return runChild(VENV_PYTHON, args, process.env);
});
