import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../core/paths';
import { tf } from '../core/backend';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { buildSeedModel } from '../model/models';
import {
  MODELS_DIR_ENV,
  canonicalJson,
  fitOrLoad,
  listKeptRuns,
  loadOrTrain,
  modelsDir,
  readRunMeta,
  runHash,
  weightsDifference,
  withAugmentedCopies,
  type FitOrLoadSpec,
} from './persist';
import { createRng } from '../core/random';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-persist-'));
let dirCount = 0;
/** A fresh models folder per test, so no test can pass on another's kept run. */
function freshDir(): string {
  return path.join(tmpRoot, `models-${dirCount++}`);
}

/** n images with pixel noise and labels 0..9, the same for the same seed. */
function toyData(n: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = createRng(seed);
  const pixels = Float32Array.from({ length: n * 784 }, () => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { x: tf.tensor4d(pixels, [n, 28, 28, 1]), y: tf.tensor1d(labels, 'int32') };
}

const hp = { ...DEFAULT_HYPERPARAMETERS, epochs: 1, batchSize: 16, convFilters: [2, 2, 2], denseUnits: 8 };

function toySpec(data: { x: tf.Tensor; y: tf.Tensor1D }, dir: string, extra: Partial<FitOrLoadSpec> = {}): FitOrLoadSpec {
  return {
    name: 'toy',
    build: () => buildSeedModel({ convFilters: hp.convFilters, denseUnits: hp.denseUnits, seed: hp.seed }),
    x: data.x,
    y: data.y,
    hp,
    test: data,
    dir,
    log: null,
    ...extra,
  };
}

test('canonicalJson sorts keys at every level and refuses what JSON cannot hold', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[1,{"y":2,"z":0}]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
  assert.throws(() => canonicalJson({ a: NaN }), /value\.a is NaN/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /function/);
  assert.equal(runHash('m', { a: 1, b: 2 }), runHash('m', { b: 2, a: 1 }));
  assert.notEqual(runHash('m', { a: 1 }), runHash('m', { a: 2 }));
  assert.notEqual(runHash('m', { a: 1 }), runHash('n', { a: 1 }));
  assert.match(runHash('m', null), /^[0-9a-f]{12}$/);
});

test('modelsDir is <project>/models unless FMNIST_MODELS_DIR names another folder', () => {
  assert.equal(modelsDir({}), path.join(projectRoot(), 'models'));
  assert.equal(modelsDir({ [MODELS_DIR_ENV]: '/tmp/elsewhere' }), '/tmp/elsewhere');
});

test('round trip: train and keep, then load the same weights, history and metrics without training', async () => {
  const data = toyData(64);
  const dir = freshDir();
  const first = await fitOrLoad(toySpec(data, dir));
  assert.equal(first.source, 'trained');
  assert.ok(first.dir && fs.existsSync(path.join(first.dir, 'model.json')));
  assert.equal(path.basename(first.dir), `toy-${first.hash}`);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temporary folder is left');
  const meta = readRunMeta(first.dir);
  assert.ok(meta);
  assert.equal(meta.architecture, 'seed_convnet');
  assert.equal((meta.hyperparameters as Record<string, unknown>).batchSize, 16);
  assert.ok(Number.isFinite(meta.metrics.testAcc) && meta.metrics.testSamples === 64);
  assert.equal(meta.history.loss.length, 1);

  let trainingsStarted = 0;
  const second = await fitOrLoad(toySpec(data, dir, { callbacks: { onTrainBegin: () => trainingsStarted++ } }));
  assert.equal(second.source, 'loaded');
  assert.equal(trainingsStarted, 0, 'a kept run is not trained again');
  assert.equal(second.hash, first.hash);
  assert.deepEqual(second.history, first.history);
  assert.deepEqual(second.metrics, first.metrics);
  const diff = weightsDifference(first.model, second.model);
  assert.equal(diff.identical, true);
  assert.ok(diff.weights > 0);
  assert.equal(listKeptRuns(dir).length, 1);
  for (const run of [first, second]) run.model.dispose();
  tf.dispose([data.x, data.y]);
});

test('loadOrTrain calls train only when no matching run is kept', async () => {
  const dir = freshDir();
  let trainings = 0;
  const spec = {
    name: 'counted',
    architecture: 'tiny',
    settings: { epochs: 1 },
    dir,
    log: null,
    train: async () => {
      trainings++;
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      return { model, history: { loss: [1], acc: [0.5], val_loss: [NaN], val_acc: [NaN], seconds: [0.1] } };
    },
  };
  const a = await loadOrTrain(spec);
  const b = await loadOrTrain(spec);
  assert.equal(trainings, 1);
  assert.ok(Number.isNaN(b.history.val_loss[0]), 'NaN survives meta.json as NaN');
  const c = await loadOrTrain({ ...spec, retrain: true });
  assert.equal(trainings, 2, 'retrain trains even when a run is kept');
  const d = await loadOrTrain({ ...spec, settings: { epochs: 2 } });
  assert.equal(trainings, 3, 'another setting is another run');
  assert.equal(d.source, 'trained');
  assert.equal(fs.readdirSync(dir).length, 2);
  const e = await loadOrTrain({ ...spec, keep: false });
  assert.equal(trainings, 4);
  assert.equal(e.dir, null);
  for (const r of [a, b, c, d, e]) r.model.dispose();
});

test('a changed hyperparameter or changed data trains again; nothing is reused across them', async () => {
  const data = toyData(64);
  const dir = freshDir();
  const base = await fitOrLoad(toySpec(data, dir));
  const otherBatch = await fitOrLoad(toySpec(data, dir, { hp: { ...hp, batchSize: 8 } }));
  const otherEpochs = await fitOrLoad(toySpec(data, dir, { epochs: 2 }));
  const otherModel = await fitOrLoad(toySpec(data, dir, { build: () => buildSeedModel({ convFilters: [2, 2, 3], denseUnits: 8, seed: hp.seed }) }));
  const otherData = toyData(64, 2);
  const otherPixels = await fitOrLoad(toySpec(otherData, dir));
  const augmented = await fitOrLoad(toySpec(data, dir, { augment: { rotationRange: 10 } }));
  const runs = [otherBatch, otherEpochs, otherModel, otherPixels, augmented];
  for (const run of runs) assert.equal(run.source, 'trained');
  assert.equal(new Set([base, ...runs].map((r) => r.hash)).size, 6);
  assert.equal(otherEpochs.history.loss.length, 2);
  const again = await fitOrLoad(toySpec(data, dir, { hp: { ...hp, batchSize: 8 } }));
  assert.equal(again.source, 'loaded');
  assert.equal(again.hash, otherBatch.hash);
  for (const r of [base, ...runs, again]) r.model.dispose();
  tf.dispose([data.x, data.y, otherData.x, otherData.y]);
});

test('an incomplete folder is trained again and replaced; an interrupted run is not kept', async () => {
  const data = toyData(32);
  const dir = freshDir();
  const first = await fitOrLoad(toySpec(data, dir));
  fs.rmSync(path.join(first.dir!, 'meta.json'));
  const second = await fitOrLoad(toySpec(data, dir));
  assert.equal(second.source, 'trained');
  assert.ok(readRunMeta(second.dir!));
  const stopped = await loadOrTrain({
    name: 'stopped',
    architecture: 'tiny',
    settings: {},
    dir,
    log: null,
    train: async () => ({ model: tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] }), history: { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] }, stopped: true }),
  });
  assert.equal(stopped.dir, null);
  assert.equal(fs.readdirSync(dir).some((f) => f.startsWith('stopped-')), false);
  for (const r of [first, second, stopped]) r.model.dispose();
  tf.dispose([data.x, data.y]);
});

test('no tensor leaks: training, keeping, loading and disposing leave the tensor count unchanged', async () => {
  const data = toyData(48);
  const dir = freshDir();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const run = await fitOrLoad(toySpec(data, dir, { augment: { zoomRange: 0.1 } }));
    assert.equal(run.source, i === 0 ? 'trained' : 'loaded');
    run.model.dispose();
  }
  const set = withAugmentedCopies(data.x, data.y, { extra: 10, augment: { rotationRange: 10 }, seed: 1, validationSplit: 0.25 });
  tf.dispose([set.x, set.y]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([data.x, data.y]);
});

test('withAugmentedCopies: the book appends at the end; training-part keeps the original validation images last', () => {
  const data = toyData(40);
  const augment = { rotationRange: 10, horizontalFlip: true };
  const book = withAugmentedCopies(data.x, data.y, { extra: 20, augment, seed: 3, validationSplit: 0.25, placement: 'book' });
  assert.equal(book.x.shape[0], 60);
  assert.equal(book.validationSplit, 0.25);
  assert.deepEqual([book.trainCount, book.validationCount, book.augmentedInValidation], [45, 15, 15]);

  const mine = withAugmentedCopies(data.x, data.y, { extra: 20, augment, seed: 3, validationSplit: 0.25 });
  assert.deepEqual([mine.trainCount, mine.validationCount, mine.augmentedInValidation], [50, 10, 0]);
  assert.equal(Math.floor(60 * (1 - mine.validationSplit)), 50, "fit's split rule holds out exactly the originals");
  const tailOriginal = data.x.slice(30).dataSync();
  const tailNew = mine.x.slice(50).dataSync();
  assert.deepEqual(Array.from(tailNew), Array.from(tailOriginal));
  assert.deepEqual(Array.from(mine.y.slice(50).dataSync()), Array.from(data.y.slice(30).dataSync()));
  // The rule must hold for awkward sizes too, where nVal / total is not exact in binary.
  for (const [n, extra, split] of [[60000, 30000, 0.25], [1000, 333, 0.2], [777, 1, 0.3], [10, 7, 0.1]] as const) {
    const d = toyData(n > 1000 ? 10 : n);
    if (n > 1000) {
      const nVal = n - Math.floor(n * (1 - split));
      const total = n + extra;
      let s = nVal / total;
      if (Math.floor(total * (1 - s)) !== total - nVal) s = (nVal - 0.5) / total;
      assert.equal(Math.floor(total * (1 - s)), total - nVal);
    } else {
      const r = withAugmentedCopies(d.x, d.y, { extra, augment, seed: 1, validationSplit: split });
      assert.equal(Math.floor(r.x.shape[0] * (1 - r.validationSplit)), r.trainCount);
      tf.dispose([r.x, r.y]);
    }
    tf.dispose([d.x, d.y]);
  }
  tf.dispose([data.x, data.y, book.x, book.y, mine.x, mine.y]);
});

test('reproducibility: the same seed twice on the same machine gives the same run', async (t) => {
  const data = toyData(256, 5);
  const spec = toySpec(data, freshDir(), { keep: false, epochs: 2, augment: { rotationRange: 10, horizontalFlip: true } });
  const a = await fitOrLoad(spec);
  const b = await fitOrLoad(spec);
  const diff = weightsDifference(a.model, b.model);
  t.diagnostic(`weights identical bit for bit: ${diff.identical}; largest difference ${diff.maxAbsDiff} over ${diff.weights} weights`);
  t.diagnostic(`losses ${a.history.loss.join(', ')} vs ${b.history.loss.join(', ')}`);
  // What TensorFlow guarantees is closeness: its threaded CPU kernels may sum in another order.
  assert.ok(diff.maxAbsDiff < 1e-4, `weights differ by ${diff.maxAbsDiff}`);
  a.history.loss.forEach((l, i) => assert.ok(Math.abs(l - b.history.loss[i]) < 1e-4));
  const other = await fitOrLoad({ ...spec, hp: { ...hp, seed: 7 } });
  assert.ok(weightsDifference(a.model, other.model).maxAbsDiff > 1e-3, 'another seed gives another run');
  for (const r of [a, b, other]) r.model.dispose();
  tf.dispose([data.x, data.y]);
});
