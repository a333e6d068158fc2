/**
 * `npm run export -- <notebook> [--epochs 3 --batch-size 64 …] [--out file.html]`: executes a
 * notebook headless with the project's kernel and writes reports/<notebook name>.html,
 * self-contained and offline. Overrides use the hyperparameter names in kebab-case and reach the
 * notebook's hyperparameter cell through FMNIST_OVERRIDES.
 *
 * Everything that can be checked is checked before the kernel starts (preflight.ts): the
 * arguments, the notebook, the output place, the data when the notebook loads it, the models
 * folder when it keeps runs. Paths are taken from where the user typed the command (INIT_CWD).
 * The report is locked (`<report>.lock`) while it is being made, so two exports to one file do
 * not race: the second refuses in one line naming the first.
 */
import path from 'node:path';
import { OVERRIDES_ENV } from '../core/config';
import { modelsDir } from '../core/paths';
import { commandLine } from './args';
import { DEBUG_ENV, KERNEL_NAME, ROOT, VENV_PYTHON, jupyterEnv, printBanner, requireVenv, runChild, runMain } from './common';
import { checkData, checkNotebook, checkOutputFile, checkWritableFolder, lockOutput, notebookCode, userPath } from './preflight';

export const EXPORT_COMMAND = {
  command: 'npm run export',
  summary: 'Runs a notebook headless with the fmnist-ts kernel and writes it as one offline HTML file.',
  positionals: { usage: '<notebook.ipynb>', min: 1, max: 1 },
  hyperparameters: true,
  options: {
    out: { type: 'string', value: 'FILE', help: 'where the HTML report goes (default reports/<notebook>.html)' },
    'cell-timeout': { type: 'integer', min: 1, max: 86400, default: 3600, value: 'SECONDS', help: 'longest a single cell may run' },
  },
} as const;

runMain(async () => {
  const { positionals, options, overrides } = commandLine(EXPORT_COMMAND);
  const notebook = userPath(positionals[0]);
  const code = notebookCode(checkNotebook(notebook, positionals[0]));
  const output = options.out === undefined ? path.join(ROOT, 'reports', `${path.basename(notebook, '.ipynb')}.html`) : userPath(options.out);
  checkOutputFile(output, options.out === undefined ? 'report' : '--out');
  // The notebooks keep runs through these; one that does needs a models folder it can write in.
  if (/\b(fitOrLoad|keptRun|loadOrTrain)\s*\(/.test(code)) checkWritableFolder(modelsDir(), 'models folder');
  requireVenv();
  const release = lockOutput(output, (line) => console.error(`[export] ${line}`));
  printBanner('export');
  if (/\bloadFashionMnist\s*\(/.test(code)) await checkData();
  const shown = Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : '';
  console.log(`[export] running ${path.relative(ROOT, notebook) || notebook}${shown}`);
  try {
    return await runChild(
      VENV_PYTHON,
      [path.join(ROOT, 'scripts', 'export_notebook.py'), notebook, output, '--kernel', KERNEL_NAME, '--cell-timeout', String(options['cell-timeout'])],
      jupyterEnv({ [OVERRIDES_ENV]: JSON.stringify(overrides), FMNIST_PLOTS: 'jupyter', [DEBUG_ENV]: process.env[DEBUG_ENV] ?? '' }),
    );
  } finally {
    release();
  }
});
