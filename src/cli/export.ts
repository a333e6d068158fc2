/**
 * `npm run export -- <notebook> [--epochs 3 --batch-size 64 …]`: executes a notebook headless
 * with the project's kernel and writes reports/<notebook name>.html, self-contained and offline.
 * Overrides use the hyperparameter names in kebab-case; they are validated here, before any
 * kernel starts, and reach the notebook's hyperparameter cell through FMNIST_OVERRIDES. Beside the
 * report goes its record, reports/<notebook name>.json (export-notebook.ts): when and where it ran,
 * the backend, the hyperparameters and the test results, as `npm run site`'s index shows them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../core/config';
import { ROOT, printBanner, requireVenv, runMain } from './common';
import { exportNotebook } from './export-notebook';

const USAGE = 'usage: npm run export -- <notebook.ipynb> [--name value …] [--out file.html]';

runMain(async () => {
  const argv = process.argv.slice(2);
  // --out is the export's own option, not a hyperparameter.
  const outAt = argv.indexOf('--out');
  const out = outAt === -1 ? undefined : argv[outAt + 1];
  if (outAt !== -1 && (out === undefined || out.startsWith('--'))) throw new Error(`--out needs a file name; ${USAGE}`);
  const rest = outAt === -1 ? argv : [...argv.slice(0, outAt), ...argv.slice(outAt + 2)];
  const { positional, overrides } = parseCommandLine(rest);
  if (positional.length !== 1) throw new Error(`expected one notebook, got ${positional.length}; ${USAGE}`);
  const notebook = path.resolve(positional[0]);
  if (!notebook.endsWith('.ipynb')) throw new Error(`${positional[0]}: not a notebook (.ipynb)`);
  if (!fs.existsSync(notebook) || !fs.statSync(notebook).isFile()) throw new Error(`${positional[0]}: no such notebook`);
  requireVenv();
  printBanner('export');
  const output = path.resolve(out ?? path.join(ROOT, 'reports', `${path.basename(notebook, '.ipynb')}.html`));
  const shown = Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : '';
  console.log(`[export] running ${path.relative(ROOT, notebook)}${shown}`);
  return exportNotebook(notebook, output, overrides);
});
