/**
 * `npm start`: JupyterLab from the project's .venv on 127.0.0.1, opened on notebooks/, with a
 * fresh token printed in the URL. Ctrl-C stops the server and its kernels. FMNIST_LAB_IP changes
 * the address it listens on: the container image sets 0.0.0.0, since a published port reaches the
 * container from outside its own loopback.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT, VENV_PYTHON, jupyterEnv, printBanner, requireVenv, runChild, runMain } from './common';

runMain(async () => {
  requireVenv();
  printBanner('start');
  const token = process.env.FMNIST_LAB_TOKEN || randomBytes(24).toString('hex');
  const port = process.env.FMNIST_LAB_PORT || '8888';
  const ip = process.env.FMNIST_LAB_IP || '127.0.0.1';
  const args = [
    // parent_watch stops Jupyter (as SIGTERM does, kernels included) should this command be killed.
    path.join(ROOT, 'scripts', 'parent_watch.py'), '-m', 'jupyterlab',
    `--ServerApp.ip=${ip}`,
    `--ServerApp.port=${port}`,
    `--ServerApp.root_dir=${path.join(ROOT, 'notebooks')}`,
    `--IdentityProvider.token=${token}`,
    '--MappingKernelManager.default_kernel_name=fmnist-ts',
    // Jupyter refuses to run as root unless told; containers often run as root.
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ...process.argv.slice(2),
  ];
  console.log(`[start] JupyterLab on http://127.0.0.1:${port}/lab?token=${token} (the port moves up if it is taken; Jupyter prints the final URL)`);
  return runChild(VENV_PYTHON, args, jupyterEnv());
});
