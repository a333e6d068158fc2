/**
 * The checks a command makes before any kernel starts or any training begins, so that a bad path
 * or a damaged file costs a second, not a run: output files (a writable place, not a folder),
 * notebooks (JSON, nbformat 4, with cells), the data (found and checked by src/data's own loader)
 * and the models folder. Each failure is one line naming the file and what is wrong.
 *
 * Also the lock that keeps two exports from writing one report at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isRunning } from '../core/leftovers';
import { modelsDir } from '../core/paths';

/** A bad path or file found before the work; the message is the one line the user sees. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

/**
 * The folder the user typed the command in. npm runs a script from the package root and keeps the
 * user's folder in INIT_CWD, so `npm run export -- ../my.ipynb` means the user's `../`.
 */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD && path.isAbsolute(env.INIT_CWD) ? env.INIT_CWD : process.cwd();
}

/** A path the user typed, made absolute from where they typed it. */
export function userPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(userCwd(env), p);
}

const reason = (err: unknown): string => {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'ENOENT') return 'no such folder, and it cannot be created';
  return code ?? (err instanceof Error ? err.message : String(err));
};

/**
 * Proves that files can be made in `dir` by making one and removing it. Folders on the way that do
 * not exist yet are created for the test and removed again, so the check leaves nothing behind;
 * the command creates them for real when it writes. `what` names the path in the message.
 */
export function checkWritableFolder(dir: string, what: string): void {
  const created: string[] = [];
  let existing = dir;
  while (!fs.existsSync(existing)) {
    created.unshift(existing);
    existing = path.dirname(existing);
  }
  if (!fs.statSync(existing).isDirectory()) throw new PreflightError(`${what}: ${existing} is a file, not a folder`);
  const probe = path.join(dir, `.write-test-${process.pid}.tmp`);
  try {
    for (const folder of created) fs.mkdirSync(folder);
    fs.writeFileSync(probe, '');
  } catch (err) {
    throw new PreflightError(`${what}: cannot write in ${dir} (${reason(err)})`);
  } finally {
    fs.rmSync(probe, { force: true });
    for (const folder of [...created].reverse()) fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** An output file: not a folder, in a place where files can be written. */
export function checkOutputFile(file: string, flag: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new PreflightError(`${flag} ${file}: is a folder; give a file name (e.g. ${path.join(file, 'report.html')})`);
  checkWritableFolder(path.dirname(file), `${flag} ${file}`);
}

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
}

/** A notebook file that Jupyter can run: it exists, is JSON, nbformat 4, with a list of cells. */
export function checkNotebook(file: string, typed = file): { cells: NotebookCell[] } {
  // The path as typed, and where it led when that was relative, so the user sees where it looked.
  const shown = path.isAbsolute(typed) ? typed : `${typed} (${file})`;
  if (!file.endsWith('.ipynb')) throw new PreflightError(`${shown}: not a notebook (.ipynb)`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PreflightError(`${shown}: ${code === 'ENOENT' ? 'no such notebook' : code === 'EISDIR' ? 'is a folder, not a notebook' : reason(err)}`);
  }
  let notebook: unknown;
  try {
    notebook = JSON.parse(text);
  } catch (err) {
    throw new PreflightError(`${shown}: not a notebook, the file is not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
  const nb = notebook as { nbformat?: unknown; cells?: unknown };
  if (nb === null || typeof nb !== 'object' || Array.isArray(nb)) throw new PreflightError(`${shown}: not a notebook, the JSON is not an object`);
  if (nb.nbformat !== 4) throw new PreflightError(`${shown}: nbformat ${JSON.stringify(nb.nbformat)}, expected 4`);
  if (!Array.isArray(nb.cells) || nb.cells.length === 0) throw new PreflightError(`${shown}: the notebook has no cells`);
  for (const [index, cell] of (nb.cells as unknown[]).entries()) {
    const c = cell as Partial<NotebookCell> | null;
    if (!c || typeof c.cell_type !== 'string' || !(typeof c.source === 'string' || Array.isArray(c.source))) {
      throw new PreflightError(`${shown}: cell ${index + 1} is not a notebook cell (it needs cell_type and source)`);
    }
  }
  return nb as { cells: NotebookCell[] };
}

/** The code of a notebook's code cells, to see what it will need (the data, kept runs). */
export function notebookCode(notebook: { cells: NotebookCell[] }): string {
  return notebook.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
}

/**
 * The data, found and checked with the loader the notebooks use (every file against its
 * checksum). This reads the files once more than the run itself does (about a second), which is
 * the price of stopping before a kernel starts rather than in its first cell.
 */
export async function checkData(): Promise<void> {
  const { loadFashionMnist } = await import('../data/load');
  await loadFashionMnist({ quiet: true });
}

/**
 * What a notebook's code needs beyond itself, checked before it runs: a models folder it can write
 * in when it keeps runs, and the data when it loads them.
 */
export async function checkNotebookNeeds(code: string): Promise<void> {
  if (/\b(fitOrLoad|keptRun|loadOrTrain)\s*\(/.test(code)) checkWritableFolder(modelsDir(), 'models folder');
  if (/\bloadFashionMnist\s*\(/.test(code)) await checkData();
}

/** Where a report's lock lives: beside it, so two exports to one file meet there. */
export function lockPath(file: string): string {
  return `${file}.lock`;
}

/**
 * Takes a lock: the file `lock`, created only where none exists, holding this process's pid. Returns
 * the release function, or the pid of the live process that holds it. A lock whose process is
 * gone (a run killed outright) is taken over, and `log` says so. The lock is removed when this
 * process exits by any path that runs 'exit' handlers, the stop signals of common.ts included
 * (they end in process.exit); only a SIGKILL leaves it, for the next one to take over.
 */
export function takeLock(lock: string, log: (line: string) => void): (() => void) | { heldBy: string } {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  // The pid is written to a file of this process's own and then linked to the lock's name: a link
  // fails if the name exists, as O_EXCL does, and unlike a file created empty and then written, the
  // lock is never seen without its pid (a reader in between would find a lock naming nobody).
  const mine = `${lock}.${process.pid}.new`;
  try {
    fs.writeFileSync(mine, `${process.pid}\n`);
  } catch (err) {
    throw new PreflightError(`${lock}: cannot create the lock (${reason(err)})`);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(mine, lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw new PreflightError(`${lock}: cannot create the lock (${reason(err)})`);
      }
      let text = '';
      try {
        text = fs.readFileSync(lock, 'utf8');
      } catch {
        continue; // Removed between our two looks: try again.
      }
      const holder = Number(text.trim());
      if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) return { heldBy: String(holder) };
      log(`${lock}: taking over the lock of process ${text.trim() || '?'}, which is no longer running`);
      // Renamed aside, not unlinked, so that of two processes taking over one stale lock only one
      // removes it.
      const aside = `${lock}.${process.pid}.stale`;
      try {
        fs.renameSync(lock, aside);
        // What was renamed may already be a new lock of a process that took over first: put it
        // back (a link fails rather than replace a lock made since) and look again.
        if (fs.readFileSync(aside, 'utf8') !== text) fs.linkSync(aside, lock);
      } catch {
        // Another process took it over first; the next attempt sees its lock.
      } finally {
        fs.rmSync(aside, { force: true });
      }
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    try {
      if (fs.readFileSync(lock, 'utf8').trim() === String(process.pid)) fs.rmSync(lock, { force: true });
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return release;
}

/**
 * Locks an output file (`<file>.lock` beside it) for this process, so that two exports to one
 * report do not race; a second refuses in one line naming the first.
 */
export function lockOutput(file: string, log: (line: string) => void): () => void {
  const taken = takeLock(lockPath(file), log);
  if (typeof taken === 'function') return taken;
  throw new PreflightError(`${file}: another export (process ${taken.heldBy}) is writing this report; wait for it or choose another --out`);
}
