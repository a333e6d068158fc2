/**
 * Fashion-MNIST as the seed's `fashion_mnist.load_data()` gives it: 60,000 training and 10,000
 * test images of 28×28 unsigned bytes, with labels 0..9. The files are found (or downloaded),
 * then every byte is checked against the official checksums before a notebook sees it, so a
 * damaged or foreign copy stops the notebook with the file's name instead of training on it.
 * Introduced in notebook 01, step 1 ("load"); `npm run data` runs the same code on its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGE_COLS, IMAGE_ROWS } from '../core/image';
import { projectRoot } from '../core/paths';
import { downloadVerified, DEFAULT_TIMEOUT_MS, DownloadProgress } from './download';
import {
  checkPair,
  DataError,
  DataFileKey,
  DatasetSpec,
  IdxFile,
  IdxImages,
  IdxLabels,
  OFFICIAL_SPEC,
  parseIdxFile,
} from './idx';
import { labelName, NUM_CLASSES } from './labels';

export { DataError, OFFICIAL_SPEC } from './idx';
export type { DataFileKey, DatasetSpec, IdxFileSpec } from './idx';
export type { DownloadProgress } from './download';

/** The four files' names, as every mirror and the Debian package spell them. */
export const DATA_FILES: Readonly<Record<DataFileKey, string>> = Object.freeze({
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
});

/**
 * The order files are read in: labels first, because they are small and a bad copy is then
 * reported in milliseconds rather than after 26 MB of image data has been decompressed.
 */
const READ_ORDER: readonly DataFileKey[] = ['trainLabels', 'testLabels', 'trainImages', 'testImages'];

/** Where `apt-get install dataset-fashion-mnist` puts the files on Debian and Ubuntu. */
export const DEFAULT_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** The download location the Fashion-MNIST README gives (zalandoresearch/fashion-mnist). */
export const OFFICIAL_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

/** The environment variables `loadFashionMnist` reads (through `options.env`). */
export const DATA_ENV = Object.freeze({
  dir: 'FASHION_MNIST_DIR',
  cacheDir: 'FASHION_MNIST_CACHE_DIR',
  systemDir: 'FASHION_MNIST_SYSTEM_DIR',
  mirror: 'FASHION_MNIST_MIRROR',
});

export interface LoadOptions {
  /**
   * A folder that must hold the four files. When given (or when FASHION_MNIST_DIR is set), it is
   * the only place looked at: if its files are missing or damaged that is an error, because
   * silently loading some other copy would hide the mistake. Default: none.
   */
  dir?: string;
  /** Where downloads are kept. Default: FASHION_MNIST_CACHE_DIR, else `<project root>/data`. */
  cacheDir?: string;
  /** The read-only system copy. Default: FASHION_MNIST_SYSTEM_DIR, else /usr/share/datasets/fashion-mnist. */
  systemDir?: string;
  /** The base URL of the four files. Default: FASHION_MNIST_MIRROR, else the Fashion-MNIST README's mirror. */
  mirror?: string;
  /** Download into the cache when no complete copy is found. Default: true. */
  download?: boolean;
  /**
   * The longest wait for a server to answer or send the next bytes, in milliseconds; it restarts
   * with every chunk, so it limits stalls, not the length of a download. Default: 60000.
   */
  timeoutMs?: number;
  /** Called for every chunk downloaded. Default: none. */
  onProgress?: (progress: DownloadProgress & { file: string }) => void;
  /** No progress output on stderr. Default: false (a bar on a terminal, a few lines otherwise). */
  quiet?: boolean;
  /** The environment to read the variables above from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * What the files must contain. Default: the official counts and SHA-256 checksums
   * (`OFFICIAL_SPEC`). Only tests pass another, to load small synthetic files.
   */
  expected?: DatasetSpec;
}

export interface FashionMnistSplit {
  /** count × 784 bytes, row-major (image, row, column), 0 = background, 255 = full ink. */
  images: Uint8Array;
  /** One class id 0..9 per image; `labelName` turns it into words. */
  labels: Uint8Array;
  count: number;
}

export type DataSource = 'option' | 'env' | 'cache' | 'system' | 'download';

export interface DataFileInfo {
  path: string;
  /** SHA-256 of the decompressed bytes (what OFFICIAL_SPEC lists). */
  sha256: string;
  /** Size of the decompressed bytes. */
  bytes: number;
  /** Size of the file on disk (gz, unless an uncompressed copy was used). */
  fileBytes: number;
  /** Whether the checksum was compared with an expected value (always, unless a test passed its own spec). */
  verified: boolean;
}

export interface FashionMnist {
  train: FashionMnistSplit;
  test: FashionMnistSplit;
  rows: typeof IMAGE_ROWS;
  cols: typeof IMAGE_COLS;
  /** The folder the files were read from (for a download: the cache). */
  dir: string;
  /** How that folder was chosen: `options.dir`, FASHION_MNIST_DIR, the cache, the system copy, or a fresh download. */
  source: DataSource;
  files: Record<DataFileKey, DataFileInfo>;
}

/** One of the four files in a folder: its gz name, or failing that the uncompressed one. */
interface FileRef {
  path: string;
  compressed: boolean;
}

/**
 * Which of the four files a folder holds. A name counts when anything exists under it (a folder,
 * a broken link), so that reading it reports what is wrong instead of the file being "missing".
 */
function scanFolder(dir: string): { found: Partial<Record<DataFileKey, FileRef>>; missing: DataFileKey[] } {
  const found: Partial<Record<DataFileKey, FileRef>> = {};
  const missing: DataFileKey[] = [];
  for (const key of READ_ORDER) {
    const gz = path.join(dir, DATA_FILES[key]);
    const raw = gz.replace(/\.gz$/, '');
    if (exists(gz)) found[key] = { path: gz, compressed: true };
    else if (exists(raw)) found[key] = { path: raw, compressed: false };
    else missing.push(key);
  }
  return { found, missing };
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a file, turning Node's error codes into the reason a reader can fix. */
async function readBytes(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'EISDIR'
        ? 'is a folder, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read: permission denied'
          : code === 'ENOENT'
            ? 'cannot be read: it is a broken symbolic link or was removed while loading'
            : code === 'ELOOP'
              ? 'cannot be read: a loop of symbolic links'
              : `cannot be read: ${code ?? (err instanceof Error ? err.message : String(err))}`;
    throw new DataError(`${file}: ${reason}`);
  }
}

interface Loaded {
  file: IdxFile;
  info: DataFileInfo;
}

/** Reads and checks one file; `hint` (how to fix a bad copy in this place) ends the message. */
async function loadFile(ref: FileRef, key: DataFileKey, spec: DatasetSpec, hint: string): Promise<Loaded> {
  try {
    const fileBytes = await readBytes(ref.path);
    const file = parseIdxFile(fileBytes, spec[key], ref.path, ref.compressed);
    return { file, info: fileInfo(ref.path, file, fileBytes.length, spec[key].sha256 !== undefined) };
  } catch (err) {
    if (err instanceof DataError && hint) throw new DataError(`${err.message}; ${hint}`);
    throw err;
  }
}

function fileInfo(file: string, idx: IdxFile, fileBytes: number, verified: boolean): DataFileInfo {
  return { path: file, sha256: idx.sha256, bytes: idx.bytes, fileBytes, verified };
}

function assemble(loaded: Record<DataFileKey, Loaded>, dir: string, source: DataSource): FashionMnist {
  const split = (imagesKey: DataFileKey, labelsKey: DataFileKey): FashionMnistSplit => {
    const images = loaded[imagesKey].file as IdxImages;
    const labels = loaded[labelsKey].file as IdxLabels;
    checkPair(images, loaded[imagesKey].info.path, labels, loaded[labelsKey].info.path);
    return { images: images.data, labels: labels.data, count: images.count };
  };
  return {
    train: split('trainImages', 'trainLabels'),
    test: split('testImages', 'testLabels'),
    rows: IMAGE_ROWS,
    cols: IMAGE_COLS,
    dir,
    source,
    files: {
      trainImages: loaded.trainImages.info,
      trainLabels: loaded.trainLabels.info,
      testImages: loaded.testImages.info,
      testLabels: loaded.testLabels.info,
    },
  };
}

async function loadFolder(
  dir: string,
  found: Partial<Record<DataFileKey, FileRef>>,
  spec: DatasetSpec,
  source: DataSource,
  hint: string,
): Promise<FashionMnist> {
  const loaded: Partial<Record<DataFileKey, Loaded>> = {};
  for (const key of READ_ORDER) {
    const ref = found[key];
    if (!ref) throw new DataError(`${path.join(dir, DATA_FILES[key])}: missing`);
    loaded[key] = await loadFile(ref, key, spec, hint);
  }
  return assemble(loaded as Record<DataFileKey, Loaded>, dir, source);
}

const names = (keys: readonly DataFileKey[]): string => keys.map((k) => DATA_FILES[k]).join(', ');

function mirrorUrl(mirror: string, key: DataFileKey): string {
  try {
    return new URL(DATA_FILES[key], mirror.endsWith('/') ? mirror : `${mirror}/`).href;
  } catch {
    throw new DataError(`${mirror}: not a valid mirror URL (set ${DATA_ENV.mirror} to a base URL ending in /)`);
  }
}

/**
 * Finds, checks and returns Fashion-MNIST. Looks, in order, at `options.dir` or
 * FASHION_MNIST_DIR (and nowhere else when one is given), the cache, the system copy, and
 * finally downloads the missing files into the cache. A folder counts only when it holds all
 * four files; a damaged file is an error naming it, never skipped.
 */
export async function loadFashionMnist(options: LoadOptions = {}): Promise<FashionMnist> {
  const env = options.env ?? process.env;
  const spec = options.expected ?? OFFICIAL_SPEC;

  const explicitDir = options.dir ?? (env[DATA_ENV.dir] || undefined);
  if (explicitDir !== undefined) {
    const dir = path.resolve(explicitDir);
    const how = options.dir !== undefined ? 'the dir option' : DATA_ENV.dir;
    if (!isFolder(dir)) throw new DataError(`${dir}: no such folder (given by ${how})`);
    const { found, missing } = scanFolder(dir);
    if (missing.length > 0) {
      throw new DataError(`${dir}: missing ${names(missing)} (this folder is given by ${how} and must hold all four files)`);
    }
    return loadFolder(dir, found, spec, options.dir !== undefined ? 'option' : 'env', '');
  }

  const cacheDir = path.resolve(options.cacheDir ?? (env[DATA_ENV.cacheDir] || path.join(projectRoot(), 'data')));
  const cache = scanFolder(cacheDir);
  const cacheHint = 'delete it and rerun to download a fresh copy';
  if (cache.missing.length === 0) return loadFolder(cacheDir, cache.found, spec, 'cache', cacheHint);

  const systemDir = path.resolve(options.systemDir ?? (env[DATA_ENV.systemDir] || DEFAULT_SYSTEM_DIR));
  const system = scanFolder(systemDir);
  if (system.missing.length === 0) {
    return loadFolder(systemDir, system.found, spec, 'system', 'reinstall the package dataset-fashion-mnist, or set FASHION_MNIST_DIR to a good copy');
  }

  if (options.download === false) {
    throw new DataError(
      `${cacheDir}: Fashion-MNIST not found here (missing ${names(cache.missing)}) nor in ${systemDir}, and downloading is off; ` +
        `run npm run data, or apt-get install dataset-fashion-mnist`,
    );
  }

  const mirror = options.mirror ?? (env[DATA_ENV.mirror] || OFFICIAL_MIRROR);
  try {
    await fs.promises.mkdir(cacheDir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DataError(`${cacheDir}: cannot create the download folder: ${e.code ?? e.message}`);
  }
  const loaded: Partial<Record<DataFileKey, Loaded>> = {};
  // Files already in the cache (from an earlier, interrupted run) are checked before anything
  // is downloaded, so a bad one is reported at once rather than after the downloads.
  for (const key of READ_ORDER) {
    const ref = cache.found[key];
    if (ref) loaded[key] = await loadFile(ref, key, spec, cacheHint);
  }
  for (const key of cache.missing) {
    const url = mirrorUrl(mirror, key);
    const dest = path.join(cacheDir, DATA_FILES[key]);
    loaded[key] = await downloadVerified(url, dest, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      quiet: options.quiet,
      onProgress: options.onProgress && ((p) => options.onProgress?.({ ...p, file: DATA_FILES[key] })),
      verify: (bytes, where) => {
        const file = parseIdxFile(bytes, spec[key], where, true);
        return { file, info: fileInfo(dest, file, bytes.length, spec[key].sha256 !== undefined) };
      },
    });
  }
  return assemble(loaded as Record<DataFileKey, Loaded>, cacheDir, 'download');
}

export interface SplitFacts {
  count: number;
  imagesShape: [number, number, number];
  labelsShape: [number];
  /** How many images of each class, indexed by label. */
  classCounts: number[];
}

/** What `npm run data` prints and a notebook can show as a table. */
export interface DatasetFacts {
  source: DataSource;
  dir: string;
  files: Array<{ name: string } & DataFileInfo>;
  train: SplitFacts;
  test: SplitFacts;
  /** The seed's book prints 9 0 0 3 0 2 7 2 5 5 for the official data. */
  firstTrainLabels: number[];
  /** Mean training pixel as a fraction of 255; 0.2860 for the official data. */
  meanTrainPixel: number;
}

function splitFacts(split: FashionMnistSplit, rows: number, cols: number): SplitFacts {
  const classCounts = new Array<number>(NUM_CLASSES).fill(0);
  for (const label of split.labels) classCounts[label]++;
  return { count: split.count, imagesShape: [split.count, rows, cols], labelsShape: [split.count], classCounts };
}

export function describeDataset(ds: FashionMnist): DatasetFacts {
  let sum = 0;
  for (const pixel of ds.train.images) sum += pixel;
  return {
    source: ds.source,
    dir: ds.dir,
    files: (Object.keys(DATA_FILES) as DataFileKey[]).map((key) => ({ name: path.basename(ds.files[key].path), ...ds.files[key] })),
    train: splitFacts(ds.train, ds.rows, ds.cols),
    test: splitFacts(ds.test, ds.rows, ds.cols),
    firstTrainLabels: Array.from(ds.train.labels.subarray(0, 10)),
    meanTrainPixel: ds.train.images.length === 0 ? 0 : sum / ds.train.images.length / 255,
  };
}

const SOURCE_WORDS: Record<DataSource, string> = {
  option: 'the folder given to loadFashionMnist',
  env: `the folder in ${DATA_ENV.dir}`,
  cache: 'the download cache',
  system: 'the system copy (package dataset-fashion-mnist)',
  download: 'a fresh download, now in the cache',
};

const grouped = (n: number): string => n.toLocaleString('en-US');
const shape = (dims: number[]): string => `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;

/** The facts as the lines `npm run data` prints. */
export function formatDatasetFacts(facts: DatasetFacts): string[] {
  const lines = [`Fashion-MNIST from ${SOURCE_WORDS[facts.source]}: ${facts.dir}`];
  const width = Math.max(...facts.files.map((f) => f.name.length));
  for (const f of facts.files) {
    const size = f.fileBytes === f.bytes ? `${grouped(f.bytes)} bytes` : `${grouped(f.fileBytes)} bytes (${grouped(f.bytes)} unpacked)`;
    lines.push(`  ${f.name.padEnd(width)}  ${size}  sha256 ${f.verified ? 'ok' : 'not checked'}`);
  }
  for (const [name, split] of [['train', facts.train], ['test', facts.test]] as const) {
    lines.push(`${name.padEnd(5)} ${grouped(split.count).padStart(6)} images ${shape(split.imagesShape)}, labels ${shape(split.labelsShape)}`);
  }
  lines.push('images per class (train / test):');
  for (let label = 0; label < NUM_CLASSES; label++) {
    // Counts first: Korean names are double-width on a terminal, so padding after them misaligns.
    lines.push(`  ${grouped(facts.train.classCounts[label]).padStart(6)} / ${grouped(facts.test.classCounts[label]).padStart(5)}  ${labelName(label)}`);
  }
  lines.push(`first ten training labels: ${facts.firstTrainLabels.join(' ')}`);
  for (const label of facts.firstTrainLabels) lines.push(`  ${labelName(label)}`);
  lines.push(`mean training pixel: ${facts.meanTrainPixel.toFixed(4)} (${(facts.meanTrainPixel * 255).toFixed(2)} on the 0..255 scale)`);
  return lines;
}
