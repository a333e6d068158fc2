/**
 * `npm run site -- [--out site] [--epochs 1 --train-samples 1000 …]`: the teaching site. Every
 * notebook in notebooks/ runs headless through the export runner that `npm run export` uses
 * (export-notebook.ts), all with the same hyperparameter overrides, and an index.html lists them:
 * title, what each teaches, when and on which machine and backend it ran, its hyperparameters and
 * its test results, all taken from the run's record (core/facts.ts), none typed in. The folder is
 * self-contained and works offline: copy it to a course page as it is.
 *
 * Everything is written into `<out>.<pid>.tmp/` and renamed into place at the end. If a notebook
 * fails or the command is stopped, the temporary folder is removed and `<out>` is left as it was;
 * the notebooks after the failing one do not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { commandLine } from './args';
import { ROOT, printBanner, requireVenv, runMain } from './common';
import { writeFileAtomic } from '../core/paths';
import { DEFAULT_CELL_TIMEOUT_S, exportNotebook, recordPathFor, type ExportRecord } from './export-notebook';
import { checkNotebook, checkNotebookNeeds, checkWritableFolder, notebookCode, userPath } from './preflight';
import { indexHtml, minutes } from './site-index';

export const SITE_COMMAND = {
  command: 'npm run site',
  summary: 'Exports every notebook with the same hyperparameters into one offline folder with an index page, ready to copy to a course page.',
  hyperparameters: true,
  options: {
    out: { type: 'string', value: 'FOLDER', help: 'the site folder (default site/); only a folder this command wrote is replaced' },
    'cell-timeout': { type: 'integer', min: 1, max: 86400, default: DEFAULT_CELL_TIMEOUT_S, value: 'SECONDS', help: 'longest a single cell may run' },
  },
} as const;
const NOTEBOOKS = path.join(ROOT, 'notebooks');
const NOTEBOOK_FILE = /^\d\d-.*\.ipynb$/;
/** A file that marks a folder as a site this command wrote, so that only such a folder is ever replaced. */
const MARKER = '.fmnist-site';

/** Refuses to replace a folder this command did not write (a typo in --out must not delete a home folder). */
function checkReplaceable(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new Error(`--out ${out}: exists and is not a folder`);
  if (fs.readdirSync(out).length > 0 && !fs.existsSync(path.join(out, MARKER))) {
    throw new Error(`--out ${out}: a folder that npm run site did not write (no ${MARKER}); name an empty or new folder`);
  }
}

/** Puts the finished folder in place of the old one; the old one goes only once the new one is there. */
function replaceFolder(finished: string, out: string): void {
  const old = `${out}.${process.pid}.old`;
  const hadOld = fs.existsSync(out);
  if (hadOld) fs.renameSync(out, old);
  try {
    fs.renameSync(finished, out);
  } catch (err) {
    if (hadOld) fs.renameSync(old, out);
    throw err;
  }
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}

runMain(async () => {
  const { options, overrides } = commandLine(SITE_COMMAND);
  const out = options.out === undefined ? path.join(ROOT, 'site') : userPath(options.out);
  checkReplaceable(out);
  checkWritableFolder(path.dirname(out), '--out');
  const notebooks = fs.readdirSync(NOTEBOOKS).filter((f) => NOTEBOOK_FILE.test(f)).sort();
  if (notebooks.length === 0) throw new Error(`${NOTEBOOKS}: no notebooks`);
  // Every notebook is read and the data and models folder checked before the first one runs, so a
  // problem costs a second rather than the notebooks before it.
  const code = notebooks.map((file) => notebookCode(checkNotebook(path.join(NOTEBOOKS, file), file))).join('\n');
  await checkNotebookNeeds(code);
  requireVenv();
  printBanner('site');

  const tmp = `${out}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // A stop signal ends the process through process.exit (common.ts), past any finally block.
  const removeTmp = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.once('exit', removeTmp);
  const records: ExportRecord[] = [];
  const started = Date.now();
  for (const [i, file] of notebooks.entries()) {
    const name = path.basename(file, '.ipynb');
    const shown = Object.keys(overrides).length ? ` with ${JSON.stringify(overrides)}` : '';
    console.log(`[site] ${i + 1}/${notebooks.length} ${file}${shown}`);
    const html = path.join(tmp, `${name}.html`);
    const exit = await exportNotebook(path.join(NOTEBOOKS, file), html, overrides, { cellTimeout: options['cell-timeout'] });
    if (exit === 130) return exit;
    if (exit !== 0) throw new Error(`${file} failed (exit code ${exit}); ${out} is left as it was`);
    records.push(JSON.parse(fs.readFileSync(recordPathFor(html), 'utf8')) as ExportRecord);
  }
  writeFileAtomic(path.join(tmp, 'index.html'), indexHtml(records, overrides));
  fs.writeFileSync(path.join(tmp, MARKER), 'Written by npm run site; the command replaces this folder as a whole.\n');
  replaceFolder(tmp, out);
  console.log(`[site] wrote ${out}/index.html and ${records.length} notebooks in ${minutes((Date.now() - started) / 1000)}`);
  return 0;
});
