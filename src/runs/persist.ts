/**
 * Keeping trained models, so that a notebook rerun with the same hyperparameters loads its models
 * in seconds instead of training them again for hours. Introduced in notebook 02.
 *
 * A kept run is a folder `<models dir>/<name>-<hash>/` holding what tfjs-node's
 * `model.save('file://…')` writes (model.json and the weights) and a meta.json with the
 * hyperparameters, the architecture, the training history and the test metrics. The hash is the
 * first 12 hex digits of the SHA-256 of a canonical JSON (keys sorted) of the architecture and
 * every setting that changes the trained weights; a run is reused only when that hash and the
 * stored settings match. Folders are written under a temporary name and renamed when complete,
 * so an interrupted save never looks like a kept model.
 *
 * A kept run checks itself before it is loaded: meta.json records the size and SHA-256 of every
 * file beside it, its own checksum and the format version. A run that is missing a file, was
 * cut short, altered, or kept by another version is reported in one line naming its folder and
 * trained again (or refused, with `onDamage: 'refuse'`), because loading it would either crash
 * inside tfjs or, worse, give a wrong model without a word. The damaged folder stays until the
 * new run is complete and takes its place.
 *
 * The models folder is `<project>/models` (gitignored) unless FMNIST_MODELS_DIR names another:
 * tests point it at a fresh temporary folder so that they neither reuse nor disturb real runs.
 *
 * What the hash cannot see is the code: a change to fit() or to a layer implementation leaves
 * old runs looking valid. Delete their folders (or pass `retrain: true`) after such a change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { augmentDataset, ImageDataGenerator, type AugmentOptions } from '../augment/augment';
import { describeBackend, tf } from '../core/backend';
import { IMAGE_COLS, IMAGE_ROWS } from '../core/image';
import type { Hyperparameters } from '../core/config';
import { nameRunOf } from '../core/facts';
import { removeLeftovers } from '../core/leftovers';
import { projectRoot } from '../core/paths';
import { showText } from '../display/display';
import { evaluate } from '../training/evaluate';
import { emptyHistory, type History, type TrainingCallbacks } from '../training/history';
import { fit, type RunKeeper, type TrainingPlan } from '../training/fit';

/** A JSON value; the hashed settings must be one, so that they survive a round trip through meta.json. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// Defined in core/paths.ts, which the commands can load without TensorFlow.
export { MODELS_DIR_ENV, modelsDir } from '../core/paths';
import { MODELS_DIR_ENV, modelsDir } from '../core/paths';

/**
 * JSON with object keys sorted at every level, so that equal settings always give the same text
 * and therefore the same hash. Non-finite numbers and values JSON cannot hold are refused rather
 * than turned into null, because two different settings must never hash alike.
 */
export function canonicalJson(value: unknown): string {
  const walk = (v: unknown, at: string): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: ${at} is ${v}, which JSON cannot hold`);
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return `[${v.map((item, i) => walk(item, `${at}[${i}]`)).join(',')}]`;
    if (ArrayBuffer.isView(v)) return walk(Array.from(v as unknown as ArrayLike<number>), at);
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, item]) => item !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${walk(item, `${at}.${k}`)}`).join(',')}}`;
    }
    throw new TypeError(`canonicalJson: ${at} is a ${typeof v}, which JSON cannot hold`);
  };
  return walk(value, 'value');
}

/** The short hash that names a kept run: 12 hex digits of SHA-256 over {architecture, settings}. */
export function runHash(architecture: string, settings: Json): string {
  return crypto.createHash('sha256').update(canonicalJson({ architecture, settings })).digest('hex').slice(0, 12);
}

/**
 * The layout of a kept run. Runs of another format are reported and trained again, never loaded.
 * Format 2 added the checksums; format 1 runs cannot be checked, so they count as another version.
 */
export const KEPT_RUN_FORMAT = 2;

/** One file of a kept run as it was saved. */
export interface KeptFile {
  bytes: number;
  sha256: string;
}

/** What meta.json holds. `format` changes when the layout does; other formats are not reused. */
export interface SavedRunMeta {
  format: typeof KEPT_RUN_FORMAT;
  /** Every file of the run but meta.json (model.json, weights.bin), as saved. */
  files: Record<string, KeptFile>;
  name: string;
  architecture: string;
  hash: string;
  /** Exactly what was hashed. */
  settings: Json;
  /** All hyperparameters in force when the run was made, for the record (not all are hashed). */
  hyperparameters: Json;
  history: History;
  /** Test metrics measured right after training, e.g. { testLoss, testAcc, testSamples }. */
  metrics: Record<string, number>;
  /** Training time in seconds, the sum of the epochs' times when the history has them. */
  trainSeconds: number;
  /** ISO time of the save. */
  savedAt: string;
  /** The TensorFlow.js line of the machine that trained it. */
  backend: string;
  /** SHA-256 of meta.json's own canonical JSON without this field, so that an edit to meta.json shows too. */
  metaSha256: string;
}

/** How kept runs are looked up and kept; loadOrTrain, keptRun and fitOrLoad all take these. */
export interface KeepOptions {
  /** Where kept runs live. Default: modelsDir(). */
  dir?: string;
  /** Train even when a matching run is kept, and replace it. Default: false. */
  retrain?: boolean;
  /**
   * What a kept run of these settings that fails its checks leads to: 'train' reports it in one
   * line and trains again, replacing it once the new run is complete; 'refuse' throws that line
   * (a KeptRunError) instead, for a caller that must not start hours of training unasked.
   * Default: 'train'.
   */
  onDamage?: 'train' | 'refuse';
  /** Where the one-line notes go (loaded from…, kept in…, damaged…). Default: showText; null for silence. */
  log?: ((line: string) => void) | null;
}

/** A kept run that cannot be used or replaced; the message is one line naming the folder. */
export class KeptRunError extends Error {
  constructor(message: string, readonly folder: string) {
    super(message);
    this.name = 'KeptRunError';
  }
}

export interface TrainResult {
  model: tf.LayersModel;
  history: History;
  /** True when training ended early (an interrupt): such a run is returned but never kept. */
  stopped?: boolean;
}

export interface LoadOrTrainSpec extends KeepOptions {
  /** A short name for the folder: lower-case letters, digits, '-' and '_'. */
  name: string;
  /** The architecture, e.g. a model's name; part of the hash. */
  architecture: string;
  /** Every setting that changes the trained weights; hashed. Leave out what does not (verbosity). */
  settings: Json;
  /** All hyperparameters, stored in meta.json for the record; not hashed. Default: none. */
  hyperparameters?: Json | Readonly<Record<string, unknown>>;
  /** Builds, compiles and trains a fresh model. Called only when no matching run is kept. */
  train: () => Promise<TrainResult>;
  /**
   * Measures a model on the test data. Called after training (the result is stored in meta.json)
   * and after loading, so the metrics returned always describe the test data of this call.
   */
  evaluate?: (model: tf.LayersModel) => Record<string, number>;
  /** Read and write kept runs at all. False trains every time and saves nothing. Default: true. */
  keep?: boolean;
}

export interface KeptRun {
  /** The spec's name, e.g. 'case1'. */
  name: string;
  model: tf.LayersModel;
  history: History;
  /** From `evaluate` on this call; empty without it. */
  metrics: Record<string, number>;
  /** 'loaded' from a kept run, or 'trained' now. */
  source: 'loaded' | 'trained';
  hash: string;
  /** The kept run's folder; null when nothing was kept (keep false, or training was interrupted). */
  dir: string | null;
  /** The kept run's meta.json, as read or as written; null when nothing was kept. */
  meta: SavedRunMeta | null;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** History values may be NaN (no validation); JSON has no NaN, so they are stored as null. */
function historyToJson(h: History): Json {
  const list = (values: number[]) => values.map((v) => (Number.isFinite(v) ? v : null));
  const record: Record<string, Json> = { loss: list(h.loss), acc: list(h.acc), val_loss: list(h.val_loss), val_acc: list(h.val_acc), seconds: list(h.seconds) };
  if (h.lr !== undefined) record.lr = list(h.lr);
  return h.engine === undefined ? record : { ...record, engine: h.engine };
}

function historyFromJson(value: unknown): History {
  const out = emptyHistory();
  const source = (value ?? {}) as Record<string, unknown>;
  for (const key of ['loss', 'acc', 'val_loss', 'val_acc', 'seconds'] as const) {
    const list = source[key];
    if (!Array.isArray(list)) throw new Error(`history.${key} is missing`);
    out[key] = list.map((v) => (typeof v === 'number' ? v : NaN));
  }
  if (Array.isArray(source.lr)) out.lr = source.lr.map((v) => (typeof v === 'number' ? v : NaN));
  if (typeof source.engine === 'string') out.engine = source.engine;
  return out;
}

function metaPath(dir: string): string {
  return path.join(dir, 'meta.json');
}

function sha256Hex(data: string | Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a file could not be read, in words: "is missing", "cannot be read (permission denied)". */
function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'is missing';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** A file name meta.json may list: a plain name inside the run's folder, never a path out of it. */
const FILE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** What is wrong with a parsed format-2 meta.json's fields, or undefined; the checksum is checked before. */
function metaProblem(raw: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'architecture', 'hash', 'savedAt', 'backend'] as const) {
    if (typeof raw[key] !== 'string') return `meta.json has no ${key}`;
  }
  if (typeof raw.trainSeconds !== 'number') return 'meta.json has no trainSeconds';
  if (!isRecord(raw.metrics)) return 'meta.json has no metrics';
  if (!isRecord(raw.files) || !isRecord(raw.files['model.json'])) return 'meta.json lists no model.json';
  for (const [file, record] of Object.entries(raw.files)) {
    if (!FILE_NAME_PATTERN.test(file) || file === 'meta.json') return `meta.json lists '${file}', which is not a file of the run`;
    if (!isRecord(record) || typeof record.bytes !== 'number' || typeof record.sha256 !== 'string') return `meta.json has no size or checksum for ${file}`;
  }
  try {
    historyFromJson(raw.history);
  } catch (err) {
    return `meta.json has no ${(err as Error).message.replace(' is missing', '')}`;
  }
  return undefined;
}

/** Checks one file of a kept run against its record in meta.json; the reason when it does not match. */
function fileProblem(dir: string, file: string, expected: KeptFile): string | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(path.join(dir, file));
  } catch (err) {
    return `${file} ${unreadable(err)}`;
  }
  if (data.length < expected.bytes) return `${file} is truncated (${data.length} of ${expected.bytes} bytes)`;
  if (data.length > expected.bytes) return `${file} has ${data.length - expected.bytes} bytes more than were saved (${data.length} of ${expected.bytes})`;
  if (sha256Hex(data) !== expected.sha256) return `${file} does not match its checksum`;
  return undefined;
}

/** A kept run's state: its meta.json when every check passes, else why it cannot be used. */
export type KeptRunState = { ok: true; meta: SavedRunMeta } | { ok: false; reason: string };

/**
 * Checks a kept run's folder without loading the model: meta.json parses, is of this format and
 * matches its own checksum and its folder's name, and every file it lists has its recorded size
 * and SHA-256. The reason, when there is one, is a phrase such as "weights.bin is truncated (6184
 * of 73728 bytes)", to follow the folder's name in one line.
 */
export function checkKeptRun(dir: string): KeptRunState {
  const damaged = (reason: string): KeptRunState => ({ ok: false, reason });
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    return damaged(`the folder ${unreadable(err)}`);
  }
  if (!stat.isDirectory()) return damaged('is a file, not a folder');
  let text: string;
  try {
    text = fs.readFileSync(metaPath(dir), 'utf8');
  } catch (err) {
    return damaged(`meta.json ${unreadable(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return damaged('meta.json is not valid JSON');
  }
  if (!isRecord(raw)) return damaged('meta.json is not a JSON object');
  if (raw.format !== KEPT_RUN_FORMAT) {
    if (raw.format === 1) return damaged('was kept by an earlier version of this project (format 1, without checksums)');
    return damaged(`was kept by another version of this project (format ${JSON.stringify(raw.format ?? null)}; this one reads ${KEPT_RUN_FORMAT})`);
  }
  const { metaSha256, ...rest } = raw;
  if (typeof metaSha256 !== 'string' || sha256Hex(canonicalJson(rest)) !== metaSha256) return damaged('meta.json does not match its checksum');
  const problem = metaProblem(rest);
  if (problem) return damaged(problem);
  if (`${String(rest.name)}-${String(rest.hash)}` !== path.basename(dir)) return damaged(`meta.json belongs to ${String(rest.name)}-${String(rest.hash)}, not to this folder`);
  for (const [file, expected] of Object.entries(rest.files as Record<string, KeptFile>)) {
    const wrong = fileProblem(dir, file, expected);
    if (wrong) return damaged(wrong);
  }
  return { ok: true, meta: { ...(raw as unknown as SavedRunMeta), history: historyFromJson(rest.history) } };
}

/** Reads a kept run's meta.json; null when the folder is not a complete run that passes checkKeptRun. */
export function readRunMeta(dir: string): SavedRunMeta | null {
  const state = checkKeptRun(dir);
  return state.ok ? state.meta : null;
}

/** A kept run's folder name: `<name>-<12 hex digits>`. */
const RUN_FOLDER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}-[0-9a-f]{12}$/;

/**
 * One row per kept run in the models folder, newest first, for a table; its `state` is 'ok' or
 * 'damaged: <reason>', and damaged runs come last. Staging folders of saves in progress (or of
 * saves that were killed) start with a dot and are not runs.
 */
export function listKeptRuns(dir: string = modelsDir()): Array<Record<string, string | number>> {
  if (!fs.existsSync(dir)) return [];
  const rows: Array<{ savedAt: string; row: Record<string, string | number> }> = [];
  for (const entry of fs.readdirSync(dir)) {
    if (!RUN_FOLDER_PATTERN.test(entry)) continue;
    const state = checkKeptRun(path.join(dir, entry));
    if (!state.ok) {
      rows.push({ savedAt: '', row: { folder: entry, state: `damaged: ${state.reason}`, architecture: '', epochs: '', 'test acc': '', 'train time': '', saved: '' } });
      continue;
    }
    const { meta } = state;
    rows.push({
      savedAt: meta.savedAt,
      row: {
        folder: entry,
        state: 'ok',
        architecture: meta.architecture,
        epochs: meta.history.loss.length,
        'test acc': Number.isFinite(meta.metrics.testAcc) ? Number(meta.metrics.testAcc.toFixed(4)) : '',
        'train time': formatSeconds(meta.trainSeconds),
        saved: meta.savedAt.slice(0, 19).replace('T', ' '),
      },
    });
  }
  return rows.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0)).map((r) => r.row);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '';
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}

function sameSettings(meta: SavedRunMeta, architecture: string, settings: Json): boolean {
  return meta.architecture === architecture && canonicalJson(meta.settings) === canonicalJson(settings);
}

/**
 * Staging folders are `.tmp-<run folder>-<pid>-<6 characters>` beside the runs: the dot keeps them
 * out of every listing, and the pid tells a save in progress from one whose process was killed.
 */
const STAGING_PATTERN = /^\.tmp-.+-(\d+)-[A-Za-z0-9]{6}$/;

function stagingName(parent: string, base: string): string {
  return path.join(parent, `.tmp-${base}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`);
}

/**
 * Removes the staging folders that a killed save left behind (their process is gone); they never
 * count as runs, but would otherwise pile up at the size of a model each. Another live process's
 * staging folder is a save in progress and is left alone.
 */
function removeStaleStaging(parent: string): void {
  removeLeftovers(parent, (name) => {
    const match = STAGING_PATTERN.exec(name);
    return match ? Number(match[1]) : undefined;
  });
}

/** Flushes a file or folder to the disk, so that a rename after it never exposes unwritten data. */
function flush(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The size and SHA-256 of a file just written, flushed to the disk. */
function keptFile(file: string): KeptFile {
  flush(file);
  const data = fs.readFileSync(file);
  return { bytes: data.length, sha256: sha256Hex(data) };
}

/** A path for the one-line notes: relative to the working folder when inside it, else absolute. */
function shownPath(file: string): string {
  const shown = path.relative(process.cwd(), file);
  return shown.startsWith('..') || path.isAbsolute(shown) || shown === '' ? file : shown;
}

/**
 * Throws one line, `lead` and why, when no run could be kept under `parent`: checked before
 * training, because a models folder that cannot be written would otherwise lose the training at
 * its end. It tries what the save will do (make a staging folder) rather than trusting the mode
 * bits, which root ignores.
 */
function assertKeepable(parent: string, folder: string, lead: string): void {
  try {
    fs.mkdirSync(parent, { recursive: true });
    const probe = stagingName(parent, 'probe');
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission denied' : code ?? (err as Error).message;
    throw new KeptRunError(
      `${lead}: ${shownPath(parent)} is not writable (${why}); nothing was trained (${MODELS_DIR_ENV} can name another folder)`, folder,
    );
  }
}

/**
 * Writes model and meta into a staging folder beside the target and renames it into place, so
 * the target is either the old run or the new complete one, never half of either. meta.json is
 * written last, through a temporary file and a rename, after every other file is flushed and
 * checksummed. A target that exists already (damaged, or `retrain`) is moved aside only now.
 */
async function saveRun(model: tf.LayersModel, record: Omit<SavedRunMeta, 'files' | 'metaSha256'>, target: string): Promise<SavedRunMeta> {
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  removeStaleStaging(parent);
  const tmp = stagingName(parent, path.basename(target));
  fs.mkdirSync(tmp);
  let aside: string | undefined;
  try {
    await model.save(`file://${tmp}`);
    const files: Record<string, KeptFile> = {};
    for (const file of fs.readdirSync(tmp).sort()) files[file] = keptFile(path.join(tmp, file));
    // Stored as JSON reads it back (NaN as null), so that the checksum covers exactly what is read.
    const stored = JSON.parse(JSON.stringify({ ...record, files, history: historyToJson(record.history) })) as Record<string, Json>;
    const metaSha256 = sha256Hex(canonicalJson(stored));
    const metaTmp = path.join(tmp, '.meta.json.tmp');
    fs.writeFileSync(metaTmp, `${JSON.stringify({ ...stored, metaSha256 }, null, 1)}\n`);
    flush(metaTmp);
    fs.renameSync(metaTmp, metaPath(tmp));
    if (fs.existsSync(target)) {
      aside = stagingName(parent, path.basename(target));
      fs.renameSync(target, aside);
    }
    fs.renameSync(tmp, target);
    flush(parent);
    return { ...record, files, metaSha256 };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (aside && !fs.existsSync(target)) fs.renameSync(aside, target);
    aside = undefined;
    throw err;
  } finally {
    if (aside) fs.rmSync(aside, { recursive: true, force: true });
  }
}

/** Bytes per value of each dtype a weights manifest may name, quantized ones included. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/**
 * Loads a checked run's model. The weights are measured against model.json's manifest before
 * the model is built, because tfjs builds the layers first and a weight file that does not fit
 * would leave their initial tensors behind when loading fails.
 */
async function loadKeptModel(folder: string): Promise<tf.LayersModel> {
  const artifacts = await tf.io.fileSystem(path.join(folder, 'model.json')).load();
  const data = artifacts.weightData;
  const have = data === undefined ? 0 : Array.isArray(data) ? data.reduce((sum, part) => sum + part.byteLength, 0) : data.byteLength;
  let need = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const bytes = DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) throw new Error(`weight ${spec.name} has dtype ${spec.dtype}, which a kept run never holds`);
    need += bytes * spec.shape.reduce((a, b) => a * b, 1);
  }
  if (have !== need) throw new Error(`the weights hold ${have} bytes where model.json's manifest needs ${need}`);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** Refuses, in one line, a name a kept run's folder cannot have. */
export function checkRunName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`kept run name '${name}' must be lower-case letters, digits, '-' or '_' (at most 64)`);
  }
}

/** Where a run of this name and hash is kept. */
function runFolder(name: string, hash: string, dir: string | undefined): string {
  checkRunName(name);
  return path.join(dir ?? modelsDir(), `${name}-${hash}`);
}

function logger(log: ((line: string) => void) | null | undefined): (line: string) => void {
  return log === undefined ? showText : log ?? (() => undefined);
}

/**
 * The kept run in `folder` when it passes its checks and holds exactly these settings; its model
 * is the caller's. Otherwise undefined, after making sure a new run could be kept, and after one
 * line saying what was wrong with the folder when there was one; with `onDamage: 'refuse'` that
 * line is thrown instead. With `retrain` the folder is not looked at.
 */
async function findKept(
  folder: string, hash: string, architecture: string, settings: Json, options: KeepOptions,
): Promise<{ model: tf.LayersModel; meta: SavedRunMeta } | undefined> {
  const log = logger(options.log);
  const parent = path.dirname(folder);
  removeStaleStaging(parent);
  if (options.retrain || !fs.existsSync(folder)) {
    assertKeepable(parent, folder, `${shownPath(folder)}: cannot keep a new run`);
    return undefined;
  }
  let state = checkKeptRun(folder);
  if (state.ok && (state.meta.hash !== hash || !sameSettings(state.meta, architecture, settings))) {
    state = { ok: false, reason: 'meta.json holds other settings than its folder name says' };
  }
  if (state.ok) {
    const { meta } = state;
    try {
      const model = await loadKeptModel(folder);
      log(
        `불러옴 Loaded ${path.basename(folder)}: ${meta.history.loss.length} epochs, trained ${meta.savedAt.slice(0, 10)} ` +
          `in ${formatSeconds(meta.trainSeconds)}; no training needed`,
      );
      return { model, meta };
    } catch (err) {
      state = { ok: false, reason: `model.json and weights.bin do not load (${String((err as Error).message).split('\n')[0]})` };
    }
  }
  const line = `${shownPath(folder)}: ${state.reason}`;
  if (options.onDamage === 'refuse') throw new KeptRunError(`${line}; not training again (onDamage: 'refuse')`, folder);
  assertKeepable(parent, folder, `${line}; cannot train again`);
  log(`${line}; training again`);
  return undefined;
}

/** Keeps a finished training in `folder` and returns the meta.json written. */
async function keepTrained(
  folder: string,
  run: { name: string; architecture: string; hash: string; settings: Json; hyperparameters?: unknown },
  model: tf.LayersModel, history: History, metrics: Record<string, number>, wallSeconds: number, log: (line: string) => void,
): Promise<SavedRunMeta> {
  const epochSeconds = history.seconds.reduce((a, b) => a + b, 0);
  const meta = await saveRun(model, {
    format: KEPT_RUN_FORMAT,
    name: run.name,
    architecture: run.architecture,
    hash: run.hash,
    settings: run.settings,
    hyperparameters: JSON.parse(JSON.stringify(run.hyperparameters ?? null)) as Json,
    history,
    metrics,
    trainSeconds: epochSeconds > 0 ? epochSeconds : wallSeconds,
    savedAt: new Date().toISOString(),
    backend: describeBackend(),
  }, folder);
  log(`저장함 Trained and kept in ${shownPath(folder)}`);
  return meta;
}

/** What ModelCheckpoint keeps: the model at the end of its best epoch so far. */
export interface CheckpointSpec {
  /** The checkpoint's name, as a kept run's: lower-case letters, digits, '-' and '_'. */
  name: string;
  model: tf.LayersModel;
  /** What it watched and how, e.g. { monitor: 'val_loss', mode: 'min' }; hashed with the architecture. */
  settings: Json;
  /** The history up to and including the kept epoch. */
  history: History;
  /** The kept epoch (counted from 1, as Keras prints it) and the monitored value, e.g. { epoch: 3, val_loss: 0.41 }. */
  metrics: Record<string, number>;
  /** Where kept runs live. Default: modelsDir(). */
  dir?: string;
}

/**
 * Keeps a checkpoint in the kept-run layout (saveRun: staged, checksummed, renamed into place),
 * in `<models dir>/<name>-<hash>` where the hash covers the architecture and the checkpoint's
 * settings, so that every improvement of one checkpoint replaces the same folder and a checkpoint
 * never passes for a finished training of keptRun. Returns the folder.
 */
export async function keepCheckpoint(spec: CheckpointSpec): Promise<string> {
  const topology = (spec.model.toJSON(null, false) as unknown as { config: Json }).config;
  const settings: Json = { topology, checkpoint: spec.settings };
  const hash = runHash(spec.model.name, settings);
  const folder = runFolder(spec.name, hash, spec.dir);
  await keepTrained(folder, { name: spec.name, architecture: spec.model.name, hash, settings, hyperparameters: spec.settings },
    spec.model, spec.history, spec.metrics, 0, () => undefined);
  return folder;
}

/**
 * Loads the model of a kept run or checkpoint folder after checkKeptRun's checks; a folder that
 * fails them throws one line naming it and why. The model is the caller's to dispose.
 */
export async function loadKeptModelFrom(folder: string): Promise<tf.LayersModel> {
  const state = checkKeptRun(folder);
  if (!state.ok) throw new KeptRunError(`${shownPath(folder)}: ${state.reason}`, folder);
  return loadKeptModel(folder);
}

/**
 * Loads the kept run that matches `spec` (same name, architecture and settings), or trains one,
 * keeps it, and returns it. The model returned is the caller's to dispose.
 *
 * A loaded model is not compiled: optimizer state is not saved, so it serves for evaluation and
 * prediction; to train it further, compile it again (Adam then starts from fresh moments).
 */
export async function loadOrTrain(spec: LoadOrTrainSpec): Promise<KeptRun> {
  const log = logger(spec.log);
  const hash = runHash(spec.architecture, spec.settings);
  const keep = spec.keep ?? true;
  const dir = runFolder(spec.name, hash, spec.dir);
  const measure = (model: tf.LayersModel) => (spec.evaluate ? spec.evaluate(model) : {});

  const found = keep ? await findKept(dir, hash, spec.architecture, spec.settings, spec) : undefined;
  if (found) {
    return { name: spec.name, model: found.model, history: found.meta.history, metrics: measure(found.model), source: 'loaded', hash, dir, meta: found.meta };
  }
  const started = performance.now();
  const result = await spec.train();
  const wall = (performance.now() - started) / 1000;
  const metrics = measure(result.model);
  if (!keep || result.stopped) {
    if (keep) log('학습이 중단되어 저장하지 않습니다 / Training was interrupted, so the run is not kept');
    return { name: spec.name, model: result.model, history: result.history, metrics, source: 'trained', hash, dir: null, meta: null };
  }
  const meta = await keepTrained(dir, { ...spec, hash }, result.model, result.history, metrics, wall, log);
  return { name: spec.name, model: result.model, history: result.history, metrics, source: 'trained', hash, dir, meta };
}

/**
 * A fingerprint of the training data: its shape and the SHA-256 of its pixels and labels. Part
 * of fitOrLoad's hash, so that a different subset, the augmented set or changed preprocessing
 * never loads a model trained on other data. Reads the pixels in slices to bound memory.
 */
export function dataFingerprint(x: tf.Tensor, y: tf.Tensor): { images: number; shape: number[]; sha256: string } {
  const h = crypto.createHash('sha256');
  const n = x.shape[0];
  const step = 5000;
  for (let start = 0; start < n; start += step) {
    const slice = x.slice(start, Math.min(step, n - start));
    const part = slice.dataSync() as Float32Array;
    slice.dispose();
    h.update(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  }
  const labels = y.dataSync();
  h.update(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
  return { images: n, shape: x.shape.slice(), sha256: h.digest('hex').slice(0, 16) };
}

/** Keras' name of a loss given to compile, e.g. sparseCategoricalCrossentropy → sparse_categorical_crossentropy. */
function kerasLossName(loss: unknown): string {
  const name = typeof loss === 'string' ? loss : Array.isArray(loss) && typeof loss[0] === 'string' ? loss[0] : 'custom';
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * What names a training for keeping: the model's name, and every setting that shapes the weights.
 * The model's layer configuration holds the architecture, its sizes and the initialisers' seeds;
 * then the optimizer's settings and the loss as given to compile, the fit settings, the on-the-fly
 * augmentation and the data's fingerprint, and the settings of callbacks that change the weights
 * (EarlyStopping restoring the best, ReduceLROnPlateau). Not part of it: the test data, verbosity,
 * the callbacks that only observe.
 */
function trainingSettings(plan: TrainingPlan): { architecture: string; settings: Json } {
  const { model } = plan;
  const optimizer = (model as unknown as { optimizer?: tf.Optimizer }).optimizer;
  if (!optimizer) throw new Error('keptRun: the model has no optimizer: call model.compile({ optimizer, loss, metrics }) before fit');
  const topology = (model.toJSON(null, false) as unknown as { config: Json }).config;
  return {
    architecture: model.name,
    settings: {
      topology,
      optimizer: { name: optimizer.getClassName().toLowerCase(), ...(optimizer.getConfig() as Record<string, Json>) },
      loss: kerasLossName((model as unknown as { loss?: unknown }).loss),
      fit: { epochs: plan.epochs, batchSize: plan.batchSize, validationSplit: plan.validationSplit, seed: plan.seed },
      augment: plan.augment ? (JSON.parse(JSON.stringify(plan.augment)) as Json) : null,
      data: dataFingerprint(plan.x, plan.y),
      // Only present with such callbacks, so that the runs kept without them keep their hash.
      ...(plan.callbacks ? { callbacks: JSON.parse(JSON.stringify(plan.callbacks)) as Json } : {}),
    },
  };
}

export interface KeptRunOptions extends KeepOptions {
  /** Test data: the kept run's metrics become { testLoss, testAcc, testSamples }. */
  test?: { x: tf.Tensor; y: tf.Tensor1D };
  /** Recorded in meta.json, not part of the key. Default: the fit settings. */
  hyperparameters?: Readonly<Record<string, unknown>>;
}

/** fit's `keep` option, and afterwards what it loaded or kept. */
export interface KeptRunKeeper extends RunKeeper {
  readonly name: string;
  /** After fit: the run's hash and folder, and its meta.json; null folder and meta when nothing was kept. */
  readonly hash: string | null;
  readonly dir: string | null;
  readonly meta: SavedRunMeta | null;
}

/**
 * Keeps a training under `name` for fit's `keep` option: `fm.fit(model, x, y, { …, keep:
 * fm.keptRun("case2") })` loads the run kept by an earlier identical training instead of training,
 * or trains and keeps it. The model must be compiled; a loaded run's weights are copied into it.
 */
export function keptRun(name: string, options: KeptRunOptions = {}): KeptRunKeeper {
  const keeper = {
    name,
    hash: null as string | null,
    dir: null as string | null,
    meta: null as SavedRunMeta | null,
    started: 0,
    /** Read before training: a callback may change the optimizer's settings (its learning rate) while it trains. */
    planned: undefined as { architecture: string; settings: Json } | undefined,
    async load(plan: TrainingPlan): Promise<History | undefined> {
      // The site's index names this model's test results after the run (core/facts.ts).
      nameRunOf(plan.model, name);
      keeper.planned = trainingSettings(plan);
      const { architecture, settings } = keeper.planned;
      const hash = runHash(architecture, settings);
      const folder = runFolder(name, hash, options.dir);
      keeper.hash = hash;
      keeper.started = performance.now();
      const found = await findKept(folder, hash, architecture, settings, options);
      if (!found) return undefined;
      plan.model.setWeights(found.model.getWeights());
      found.model.dispose();
      keeper.dir = folder;
      keeper.meta = found.meta;
      return found.meta.history;
    },
    async save(plan: TrainingPlan, history: History): Promise<void> {
      const { architecture, settings } = keeper.planned ?? trainingSettings(plan);
      const hash = runHash(architecture, settings);
      const folder = runFolder(name, hash, options.dir);
      const test = options.test;
      const metrics = test ? testMetrics(plan.model, test) : {};
      const { model: _model, x: _x, y: _y, ...fitSettings } = plan;
      const record = { name, architecture, hash, settings, hyperparameters: options.hyperparameters ?? fitSettings };
      const seconds = (performance.now() - keeper.started) / 1000;
      keeper.meta = await keepTrained(folder, record, plan.model, history, metrics, seconds, logger(options.log));
      keeper.hash = hash;
      keeper.dir = folder;
    },
  };
  return keeper;
}

function testMetrics(model: tf.LayersModel, test: { x: tf.Tensor; y: tf.Tensor1D }): Record<string, number> {
  const [testLoss, testAcc] = evaluate(model, test.x, test.y);
  return { testLoss, testAcc, testSamples: test.x.shape[0] };
}

/** The hyperparameters fitOrLoad reads; a notebook passes its whole `hp`. */
export type FitHyperparameters = Pick<
  Hyperparameters,
  'epochs' | 'batchSize' | 'validationSplit' | 'seed' | 'learningRate' | 'beta1' | 'beta2' | 'epsilon'
>;

export interface FitOrLoadSpec extends KeepOptions {
  /** The kept run's folder name, e.g. 'case1'. */
  name: string;
  /** A fresh, seeded, uncompiled model; fitOrLoad compiles it with Adam from `hp`. */
  build: () => tf.LayersModel;
  /** Training images (N, 28, 28, 1); the validation part is the end, as in Keras. */
  x: tf.Tensor;
  y: tf.Tensor1D;
  hp: FitHyperparameters & Readonly<Partial<Hyperparameters>>;
  /** Overrides hp.epochs (VGG-7 uses hp.vggEpochs). */
  epochs?: number;
  /** Overrides hp.validationSplit (withAugmentedCopies returns the one to use). */
  validationSplit?: number;
  /** Augmentation on the fly, fresh every epoch, seeded with hp.seed. Default: none. */
  augment?: AugmentOptions;
  /** Test data: the metrics become { testLoss, testAcc, testSamples }. */
  test?: { x: tf.Tensor; y: tf.Tensor1D };
  callbacks?: TrainingCallbacks | TrainingCallbacks[];
  /** Read and write kept runs at all. False trains every time and saves nothing. Default: true. */
  keep?: boolean;
}

/**
 * The commands' training in one call (`npm run full-run`, the tests): build, compile with Adam
 * as the notebooks do, fit with `keep: keptRun(name)`, and measure on the test data. A notebook
 * writes the same steps out in its cells; both name a run alike, so either loads the other's.
 */
export async function fitOrLoad(spec: FitOrLoadSpec): Promise<KeptRun> {
  const { hp } = spec;
  const epochs = spec.epochs ?? hp.epochs;
  const validationSplit = spec.validationSplit ?? hp.validationSplit;
  const model = spec.build();
  model.compile({
    optimizer: tf.train.adam(hp.learningRate, hp.beta1, hp.beta2, hp.epsilon),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const keeper = spec.keep === false
    ? undefined
    : keptRun(spec.name, {
      test: spec.test, hyperparameters: { ...hp, epochs, validationSplit },
      dir: spec.dir, retrain: spec.retrain, onDamage: spec.onDamage, log: spec.log,
    });
  const run = fit(model, spec.x, spec.y, {
    epochs,
    batchSize: hp.batchSize,
    validationSplit,
    seed: hp.seed,
    callbacks: spec.callbacks,
    augment: spec.augment ? new ImageDataGenerator({ ...spec.augment, seed: hp.seed }) : undefined,
    keep: keeper,
  });
  try {
    await run.done;
  } catch (err) {
    // A kept run refused (onDamage: 'refuse') or a models folder that cannot be written ends
    // the call before training; the model built for it is nobody else's to dispose.
    model.optimizer?.dispose();
    model.dispose();
    throw err;
  }
  // The optimizer's slots are not part of a kept run; freeing them now keeps memory flat
  // across the notebook's several trainings.
  model.optimizer?.dispose();
  if (run.stopped && keeper) logger(spec.log)('학습이 중단되어 저장하지 않습니다 / Training was interrupted, so the run is not kept');
  const metrics = keeper?.meta && run.source === 'trained' ? keeper.meta.metrics : spec.test ? testMetrics(model, spec.test) : {};
  return {
    name: spec.name, model, history: run.history, metrics, source: run.source,
    hash: keeper?.hash ?? '', dir: keeper?.dir ?? null, meta: keeper?.meta ?? null,
  };
}

/**
 * Where the book's augmented copies go relative to the validation part:
 * - 'book': appended after all training images, as the book does; Keras' validation_split then
 *   takes its validation images from the end, i.e. mostly from the augmented copies;
 * - 'training-part': made from the training part only and put before the validation part, so the
 *   validation images are the same untouched originals as in every run without augmentation.
 */
export type AugmentPlacement = 'book' | 'training-part';

export interface AugmentedTrainingSet {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** The split to pass to fit so that exactly `validationCount` images at the end validate. */
  validationSplit: number;
  trainCount: number;
  validationCount: number;
  /** How many of the images are augmented copies, and how many of those are in validation. */
  augmented: number;
  augmentedInValidation: number;
  placement: AugmentPlacement;
}

/**
 * The book's augmentation step: `extra` augmented copies of training images drawn at random with
 * replacement (augmentDataset), combined with the originals as `placement` says. The inputs are
 * not disposed; the tensors returned are the caller's.
 */
export function withAugmentedCopies(
  x: tf.Tensor,
  y: tf.Tensor1D,
  options: { extra: number; augment: AugmentOptions; seed: number; validationSplit: number; placement?: AugmentPlacement },
): AugmentedTrainingSet {
  const placement = options.placement ?? 'training-part';
  const n = x.shape[0];
  const [rows, cols] = [x.shape[1] ?? IMAGE_ROWS, x.shape[2] ?? IMAGE_COLS];
  // Keras: split_at = int(n * (1 - validation_split)); the same rule as fit().
  const splitAt = Math.floor(n * (1 - options.validationSplit));
  const sourceCount = placement === 'book' ? n : splitAt;
  const [xs, ys] = [x.slice(0, sourceCount), y.slice(0, sourceCount)];
  const sources = xs.dataSync() as Float32Array;
  const labels = ys.dataSync() as Int32Array;
  tf.dispose([xs, ys]);
  const extra = augmentDataset(sources, labels, options.extra, options.augment, options.seed, rows, cols);
  return tf.tidy(() => {
    const augX = tf.tensor4d(extra.images, [options.extra, rows, cols, 1]);
    const augY = tf.tensor1d(extra.labels, 'int32');
    const total = n + options.extra;
    if (placement === 'book') {
      const trainCount = Math.floor(total * (1 - options.validationSplit));
      return {
        x: tf.concat([x as tf.Tensor4D, augX]),
        y: tf.concat([y, augY]),
        validationSplit: options.validationSplit,
        trainCount,
        validationCount: total - trainCount,
        augmented: options.extra,
        augmentedInValidation: Math.min(options.extra, total - trainCount),
        placement,
      };
    }
    const validationCount = n - splitAt;
    // nVal / total can land a hair on either side after rounding; half an image less makes
    // floor(total × (1 − split)) come out at exactly total − nVal.
    let split = validationCount / total;
    if (Math.floor(total * (1 - split)) !== total - validationCount) split = (validationCount - 0.5) / total;
    return {
      x: tf.concat([x.slice(0, splitAt) as tf.Tensor4D, augX, x.slice(splitAt) as tf.Tensor4D]),
      y: tf.concat([y.slice(0, splitAt), augY, y.slice(splitAt)]),
      validationSplit: split,
      trainCount: total - validationCount,
      validationCount,
      augmented: options.extra,
      augmentedInValidation: 0,
      placement,
    };
  });
}

/** How far apart two models' weights are: identical bit for bit, or the largest difference. */
export function weightsDifference(a: tf.LayersModel, b: tf.LayersModel): { identical: boolean; maxAbsDiff: number; weights: number } {
  const wa = a.getWeights();
  const wb = b.getWeights();
  if (wa.length !== wb.length) throw new Error(`weightsDifference: ${wa.length} weight tensors against ${wb.length}`);
  let identical = true;
  let maxAbsDiff = 0;
  let weights = 0;
  wa.forEach((ta, i) => {
    const da = ta.dataSync();
    const db = wb[i].dataSync();
    if (da.length !== db.length) throw new Error(`weightsDifference: tensor ${i} has ${da.length} values against ${db.length}`);
    weights += da.length;
    for (let k = 0; k < da.length; k++) {
      if (!Object.is(da[k], db[k])) identical = false;
      const d = Math.abs(da[k] - db[k]);
      if (d > maxAbsDiff) maxAbsDiff = d;
    }
  });
  return { identical, maxAbsDiff, weights };
}
