/**
 * `npm run tensorboard [-- --logdir logs --port 6006]`: TensorBoard from the project's .venv on
 * 127.0.0.1, showing the runs that fit's TensorBoard callback writes under logs/ (a run appears
 * while it trains). Ctrl-C stops it. TensorBoard comes from requirements.txt, installed with the
 * rest of .venv by `npm install`, so it starts offline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logsDir } from '../core/paths';
import { ROOT, VENV_PYTHON, requireVenv, runChild, runMain } from './common';

/** TensorBoard's own default port. */
const DEFAULT_PORT = 6006;

/** The two flags, as `--name value` or `--name=value`; anything else is refused in one line. */
function parseFlags(args: string[]): { logdir: string; port: number } {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (name !== '--logdir' && name !== '--port') throw new Error(`tensorboard: unknown argument '${args[i]}' (it takes --logdir <folder> and --port <number>)`);
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new Error(`tensorboard: ${name} needs a value`);
    flags[name] = value;
  }
  const port = flags['--port'] === undefined ? DEFAULT_PORT : Number(flags['--port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`tensorboard: --port must be a whole number from 1 to 65535, got '${flags['--port']}'`);
  return { logdir: path.resolve(flags['--logdir'] ?? logsDir()), port };
}

runMain(async () => {
  const { logdir, port } = parseFlags(process.argv.slice(2));
  requireVenv();
  const probe = path.join(ROOT, '.venv', 'bin', 'tensorboard');
  if (!fs.existsSync(probe)) throw new Error('TensorBoard is not installed in .venv; run npm run setup (it installs requirements.txt)');
  if (fs.existsSync(logdir) && !fs.statSync(logdir).isDirectory()) throw new Error(`tensorboard: --logdir ${logdir} is a file, not a folder`);
  // Made when missing, so that TensorBoard can be started before the first training writes to it.
  fs.mkdirSync(logdir, { recursive: true });
  console.log(`[tensorboard] http://127.0.0.1:${port}/ showing the runs in ${path.relative(process.cwd(), logdir) || '.'}`);
  // parent_watch stops TensorBoard (SIGTERM, as a Ctrl-C here does) should this command be killed outright.
  const args = [path.join(ROOT, 'scripts', 'parent_watch.py'), '-m', 'tensorboard.main', '--logdir', logdir, '--host', '127.0.0.1', '--port', String(port)];
  return runChild(VENV_PYTHON, args, process.env);
});
