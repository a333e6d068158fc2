/**
 * Where the project lives on disk, computed once for every module and command. The compiled code
 * runs from dist/, from the tests' own build in dist-test/src/, or from the sources; each sits at a
 * different depth, so the root is the nearest folder upwards whose package.json is the project's
 * own rather than a fixed number of `..`. Also the one way files are written whole.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The project's package name in the root package.json (src/package.json is `fmnist`). */
const PROJECT_PACKAGE = 'fashion-mnist-convnet-ts';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === PROJECT_PACKAGE) return dir;
      } catch {
        // A broken package.json on the way up is not the project's: keep climbing.
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the project root (a package.json named ${PROJECT_PACKAGE}) above ${start}`);
  }
}

let root: string | undefined;

/** The project's root folder (where package.json, notebooks/ and data/ are). */
export function projectRoot(): string {
  root ??= findRoot(__dirname);
  return root;
}

export const LOGS_DIR_ENV = 'FMNIST_LOGS_DIR';

/**
 * Where TensorBoard logs go: `<project>/logs` (gitignored) unless FMNIST_LOGS_DIR names another
 * folder (the tests use a temporary one). fit's TensorBoard callback writes `<run>/` here and
 * `npm run tensorboard` reads it by default.
 */
export function logsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env[LOGS_DIR_ENV] || path.join(projectRoot(), 'logs'));
}

export const MODELS_DIR_ENV = 'FMNIST_MODELS_DIR';

/** The folder that holds kept runs (src/runs/persist.ts): FMNIST_MODELS_DIR, else `<project>/models`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[MODELS_DIR_ENV];
  return path.resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : path.join(projectRoot(), 'models'));
}

/**
 * Writes a file through a temporary name beside it and a rename, so no reader ever sees half of
 * it and a failed write leaves nothing behind.
 */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
