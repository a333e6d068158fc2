/**
 * `npm run tensorboard [-- --logdir logs --port 6006]`: TensorBoard from the project's .venv on
 * 127.0.0.1, showing the runs that fit's TensorBoard callback writes under logs/ (a run appears
 * while it trains). Ctrl-C stops it. TensorBoard comes from requirements.txt, installed with the
 * rest of .venv by `npm install`, so it starts offline.
 */
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
  // Made when missing, so that TensorBoard can be started before the first training writes to it.
  fs.mkdirSync(logdir, { recursive: true });
  console.log(`[tensorboard] http://127.0.0.1:${port}/ showing the runs in ${path.relative(process.cwd(), logdir) || '.'}`);
  // parent_watch stops TensorBoard (SIGTERM, as a Ctrl-C here does) should this command be killed outright.
  const args = [path.join(ROOT, 'scripts', 'parent_watch.py'), '-m', 'tensorboard.main', '--logdir', logdir, '--host', '127.0.0.1', '--port', String(port)];
  return runChild(VENV_PYTHON, args, process.env);
});
