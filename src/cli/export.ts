/**
 * `npm run export -- <notebook> [--epochs 3 --batch-size 64 …] [--out file.html]`: executes a
 * notebook headless with the project's kernel and writes reports/<notebook name>.html,
 * self-contained and offline. Overrides use the hyperparameter names in kebab-case and reach the
 * notebook's hyperparameter cell through FMNIST_OVERRIDES. Beside the report goes its record,
 * reports/<notebook name>.json (export-notebook.ts): when and where it ran, the backend, the
 * hyperparameters and the test results, as `npm run site`'s index shows them.
 *
 * Everything that can be checked is checked before the kernel starts (preflight.ts): the
 * arguments, the notebook, the output place, the data when the notebook loads it, the models
 * folder when it keeps runs. Paths are taken from where the user typed the command (INIT_CWD).
 * The report is locked (`<report>.lock`) while it is being made, so two exports to one file do
 * not race: the second refuses in one line naming the first.
 */
import path from 'node:path';
import { commandLine } from './args';
import { ROOT, printBanner, requireVenv, runMain } from './common';
import { DEFAULT_CELL_TIMEOUT_S, exportNotebook } from './export-notebook';
import { checkNotebook, checkNotebookNeeds, checkOutputFile, checkWritableFolder, lockOutput, notebookCode, userPath } from './preflight';

export const EXPORT_COMMAND = {
  command: 'npm run export',
  summary: 'Runs a notebook headless with the fmnist-ts kernel and writes it as one offline HTML file.',
  positionals: { usage: '<notebook.ipynb>', min: 1, max: 1 },
  hyperparameters: true,
  options: {
    out: { type: 'string', value: 'FILE', help: 'where the HTML report goes (default reports/<notebook>.html)' },
    'cell-timeout': { type: 'integer', min: 1, max: 86400, default: DEFAULT_CELL_TIMEOUT_S, value: 'SECONDS', help: 'longest a single cell may run' },
  },
} as const;

runMain(async () => {
  const { positionals, options, overrides } = commandLine(EXPORT_COMMAND);
  const notebook = userPath(positionals[0]);
  const code = notebookCode(checkNotebook(notebook, positionals[0]));
  const output = options.out === undefined ? path.join(ROOT, 'reports', `${path.basename(notebook, '.ipynb')}.html`) : userPath(options.out);
  checkOutputFile(output, options.out === undefined ? 'report' : '--out');
  requireVenv();
  const release = lockOutput(output, (line) => console.error(`[export] ${line}`));
  try {
    printBanner('export');
    await checkNotebookNeeds(code);
    const shown = Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : '';
    console.log(`[export] running ${path.relative(ROOT, notebook) || notebook}${shown}`);
    return await exportNotebook(notebook, output, overrides, { cellTimeout: options['cell-timeout'] });
  } finally {
    release();
  }
});
