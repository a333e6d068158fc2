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
 * The models folder is `<project>/models` (gitignored) unless FMNIST_MODELS_DIR names another:
 * tests point it at a fresh temporary folder so that they neither reuse nor disturb real runs.
 *
 * What the hash cannot see is the code: a change to fit() or to a layer implementation leaves
 * old runs looking valid. Delete their folders (or pass `retrain: true`) after such a change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { augmentDataset, ImageDataGenerator, type AugmentOptions } from './augment';
import { describeBackend, tf } from './backend';
import type { Hyperparameters } from './config';
import { projectRoot } from './data';
import { showText } from './display';
import { evaluate } from './evaluate';
import { emptyHistory, type History, type TrainingCallbacks } from './history';
import { fit } from './train';

/** A JSON value; the hashed settings must be one, so that they survive a round trip through meta.json. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const MODELS_DIR_ENV = 'FMNIST_MODELS_DIR';

/** The folder that holds kept runs: FMNIST_MODELS_DIR, else `<project>/models`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[MODELS_DIR_ENV];
  return path.resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : path.join(projectRoot(), 'models'));
}

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

/** What meta.json holds. `format` changes when the layout does; other formats are not reused. */
export interface SavedRunMeta {
  format: 1;
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
}

export interface TrainResult {
  model: tf.LayersModel;
  history: History;
  /** True when training ended early (an interrupt): such a run is returned but never kept. */
  stopped?: boolean;
}

export interface LoadOrTrainSpec {
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
  /** Where kept runs live. Default: modelsDir(). */
  dir?: string;
  /** Train even when a matching run is kept, and replace it. Default: false. */
  retrain?: boolean;
  /** Read and write kept runs at all. False trains every time and saves nothing. Default: true. */
  keep?: boolean;
  /** Where the one-line notes go (loaded from…, kept in…). Default: showText; null for silence. */
  log?: ((line: string) => void) | null;
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
  return { loss: list(h.loss), acc: list(h.acc), val_loss: list(h.val_loss), val_acc: list(h.val_acc), seconds: list(h.seconds) };
}

function historyFromJson(value: unknown): History {
  const out = emptyHistory();
  const source = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(out) as Array<keyof History>) {
    const list = source[key];
    if (!Array.isArray(list)) throw new Error(`history.${key} is missing`);
    out[key] = list.map((v) => (typeof v === 'number' ? v : NaN));
  }
  return out;
}

function metaPath(dir: string): string {
  return path.join(dir, 'meta.json');
}

/** Reads a kept run's meta.json; null when the folder is not a complete, readable run. */
export function readRunMeta(dir: string): SavedRunMeta | null {
  try {
    const raw = JSON.parse(fs.readFileSync(metaPath(dir), 'utf8')) as Record<string, unknown>;
    if (raw.format !== 1 || !fs.existsSync(path.join(dir, 'model.json'))) return null;
    return { ...(raw as unknown as SavedRunMeta), history: historyFromJson(raw.history) };
  } catch {
    return null;
  }
}

/** One row per kept run in the models folder, newest first, for a table. */
export function listKeptRuns(dir: string = modelsDir()): Array<Record<string, string | number>> {
  if (!fs.existsSync(dir)) return [];
  const rows: Array<{ savedAt: string; row: Record<string, string | number> }> = [];
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const meta = readRunMeta(path.join(dir, entry));
    if (!meta) continue;
    rows.push({
      savedAt: meta.savedAt,
      row: {
        folder: entry,
        architecture: meta.architecture,
        epochs: meta.history.loss.length,
        'test acc': Number.isFinite(meta.metrics.testAcc) ? Number(meta.metrics.testAcc.toFixed(4)) : '',
        'train time': formatSeconds(meta.trainSeconds),
        saved: meta.savedAt.slice(0, 19).replace('T', ' '),
      },
    });
  }
  return rows.sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1)).map((r) => r.row);
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
 * Writes model and meta into a temporary folder beside the target and renames it into place, so
 * the target is either absent or complete. A target that exists already is replaced (it was
 * found unusable, or `retrain` was asked for).
 */
async function saveRun(model: tf.LayersModel, meta: SavedRunMeta, target: string): Promise<void> {
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.tmp-${path.basename(target)}-`));
  try {
    await model.save(`file://${tmp}`);
    fs.writeFileSync(metaPath(tmp), `${JSON.stringify({ ...meta, history: historyToJson(meta.history) }, null, 1)}\n`);
    // mkdtemp makes the folder private (0700); a kept run is ordinary project output.
    fs.chmodSync(tmp, 0o755);
    if (fs.existsSync(target)) fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Loads the kept run that matches `spec` (same name, architecture and settings), or trains one,
 * keeps it, and returns it. The model returned is the caller's to dispose.
 *
 * A loaded model is not compiled: optimizer state is not saved, so it serves for evaluation and
 * prediction; to train it further, compile it again (Adam then starts from fresh moments).
 */
export async function loadOrTrain(spec: LoadOrTrainSpec): Promise<KeptRun> {
  if (!NAME_PATTERN.test(spec.name)) {
    throw new Error(`loadOrTrain: name '${spec.name}' must be lower-case letters, digits, '-' or '_' (at most 64)`);
  }
  const log = spec.log === undefined ? showText : spec.log ?? (() => undefined);
  const hash = runHash(spec.architecture, spec.settings);
  const keep = spec.keep ?? true;
  const dir = path.join(spec.dir ?? modelsDir(), `${spec.name}-${hash}`);
  const measure = (model: tf.LayersModel) => (spec.evaluate ? spec.evaluate(model) : {});

  if (keep && !spec.retrain && fs.existsSync(dir)) {
    const meta = readRunMeta(dir);
    if (meta && meta.hash === hash && sameSettings(meta, spec.architecture, spec.settings)) {
      const model = await tf.loadLayersModel(`file://${path.join(dir, 'model.json')}`);
      log(
        `불러옴 Loaded ${path.basename(dir)}: ${meta.history.loss.length} epochs, trained ${meta.savedAt.slice(0, 10)} ` +
          `in ${formatSeconds(meta.trainSeconds)}; no training needed`,
      );
      return { name: spec.name, model, history: meta.history, metrics: measure(model), source: 'loaded', hash, dir, meta };
    }
    log(`${path.basename(dir)} is incomplete or does not match; training again`);
  }

  const started = performance.now();
  const result = await spec.train();
  const wall = (performance.now() - started) / 1000;
  const metrics = measure(result.model);
  if (!keep || result.stopped) {
    if (keep) log('학습이 중단되어 저장하지 않습니다 / Training was interrupted, so the run is not kept');
    return { name: spec.name, model: result.model, history: result.history, metrics, source: 'trained', hash, dir: null, meta: null };
  }
  const epochSeconds = result.history.seconds.reduce((a, b) => a + b, 0);
  const meta: SavedRunMeta = {
    format: 1,
    name: spec.name,
    architecture: spec.architecture,
    hash,
    settings: spec.settings,
    hyperparameters: JSON.parse(JSON.stringify(spec.hyperparameters ?? null)) as Json,
    history: result.history,
    metrics,
    trainSeconds: epochSeconds > 0 ? epochSeconds : wall,
    savedAt: new Date().toISOString(),
    backend: describeBackend(),
  };
  await saveRun(result.model, meta, dir);
  const shown = path.relative(process.cwd(), dir);
  log(`저장함 Trained and kept in ${shown.startsWith('..') || path.isAbsolute(shown) ? dir : shown}`);
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

/** The hyperparameters fitOrLoad reads; a notebook passes its whole `hp`. */
export type FitHyperparameters = Pick<
  Hyperparameters,
  'epochs' | 'batchSize' | 'validationSplit' | 'seed' | 'learningRate' | 'beta1' | 'beta2' | 'epsilon'
>;

export interface FitOrLoadSpec {
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
  dir?: string;
  retrain?: boolean;
  keep?: boolean;
  log?: ((line: string) => void) | null;
}

/**
 * The notebook's training cell in one call: build, compile with Adam as Keras does, fit with the
 * seed's settings, evaluate on the test data, and keep the run; or load the kept run when
 * everything that shapes the weights is the same. Hashed: the model's layer configuration (which
 * holds the architecture, its sizes and the initialisers' seeds), the optimizer's settings,
 * epochs, batch size, validation split, seed, the on-the-fly augmentation, and the data's
 * fingerprint. Not hashed: the test data, verbosity, the callbacks.
 */
export async function fitOrLoad(spec: FitOrLoadSpec): Promise<KeptRun> {
  const { hp } = spec;
  const epochs = spec.epochs ?? hp.epochs;
  const validationSplit = spec.validationSplit ?? hp.validationSplit;
  const probe = spec.build();
  const architecture = probe.name;
  const topology = (probe.toJSON(null, false) as unknown as { config: Json }).config;
  probe.dispose();
  const settings: Json = {
    topology,
    optimizer: { name: 'adam', learningRate: hp.learningRate, beta1: hp.beta1, beta2: hp.beta2, epsilon: hp.epsilon },
    loss: 'sparse_categorical_crossentropy',
    fit: { epochs, batchSize: hp.batchSize, validationSplit, seed: hp.seed },
    augment: spec.augment ? (JSON.parse(JSON.stringify(spec.augment)) as Json) : null,
    data: dataFingerprint(spec.x, spec.y),
  };
  return loadOrTrain({
    name: spec.name,
    architecture,
    settings,
    hyperparameters: { ...hp, epochs, validationSplit },
    dir: spec.dir,
    retrain: spec.retrain,
    keep: spec.keep,
    log: spec.log,
    evaluate: spec.test
      ? (model) => {
          const [testLoss, testAcc] = evaluate(model, spec.test!.x, spec.test!.y);
          return { testLoss, testAcc, testSamples: spec.test!.x.shape[0] };
        }
      : undefined,
    train: async () => {
      const model = spec.build();
      model.compile({
        optimizer: tf.train.adam(hp.learningRate, hp.beta1, hp.beta2, hp.epsilon),
        loss: 'sparseCategoricalCrossentropy',
        metrics: ['accuracy'],
      });
      const run = fit(model, spec.x, spec.y, {
        epochs,
        batchSize: hp.batchSize,
        validationSplit,
        seed: hp.seed,
        callbacks: spec.callbacks,
        augment: spec.augment ? new ImageDataGenerator({ ...spec.augment, seed: hp.seed }) : undefined,
      });
      await run.done;
      // The optimizer's slots are not part of a kept run; freeing them now keeps memory flat
      // across the notebook's several trainings.
      model.optimizer?.dispose();
      return { model, history: run.history, stopped: run.stopped };
    },
  });
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
  const [rows, cols] = [x.shape[1] ?? 28, x.shape[2] ?? 28];
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
