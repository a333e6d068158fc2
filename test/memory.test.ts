/**
 * Memory: every helper gives back the tensors it makes (tf.memory().numTensors returns to its
 * baseline), and a training run's process memory stays flat from epoch to epoch.
 *
 * The epoch-by-epoch measurement runs in a child process of its own (this file, started again
 * with FMNIST_MEMORY_CHILD=1), so that what other tests allocated does not blur its RSS.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { toyData } from './support';
import type { RawSplit } from '../src/data/preprocess';
import { ImageDataGenerator, augmentCopies, augmentDataset } from '../src/augment/augment';
import { tf } from '../src/core/backend';
import { loadFashionMnist } from '../src/data/load';
import { show } from '../src/display/display';
import { argmaxRows, confusionMatrix, evaluate, mistakes, predictProbabilities } from '../src/training/evaluate';
import { confusionMatrixFigure, historyFigure, imageFigure, imageGridFigure, probabilityBarFigure } from '../src/display/figures';
import { History, TrainingCallbacks, emptyHistory } from '../src/training/history';
import { CLASS_NAMES_EN } from '../src/data/labels';
import { buildCase2Model, buildSeedModel, buildVgg7Model, formatSummary, modelSummary } from '../src/model/models';
import { imageAt, imagesAt, normalize, reshape, shapeOf, toTensors, valueRange } from '../src/data/preprocess';
import { trainingMonitor } from '../src/display/progress';
import { fit } from '../src/training/fit';

const CHILD_ENV = 'FMNIST_MEMORY_CHILD';


/** Model-ready tensors: (N, 28, 28, 1) in 0..1 and int32 labels. */
function prepared(train: ReturnType<typeof toyData>, test: ReturnType<typeof toyData>) {
  const t = toTensors({ train, test });
  return {
    x: reshape(normalize(t.trainX), [-1, 28, 28, 1]),
    y: t.trainY,
    testX: reshape(normalize(t.testX), [-1, 28, 28, 1]),
    testY: t.testY,
  };
}

function compile(model: tf.LayersModel): void {
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
}

/**
 * Runs fn with process.stdout.write captured (the monitor and files mode print lines). fn must be
 * synchronous: under `node --test` the test reporter writes to this process's stdout too, and it
 * can only do so between event-loop turns, never inside this window.
 */
function quietly<T>(fn: () => T): { result: T; printed: string } {
  const original = process.stdout.write;
  let printed = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: fn(), printed };
  } finally {
    process.stdout.write = original;
  }
}

/** Callbacks whose every call runs quietly; what they print is collected in `out.text`. */
function quietCallbacks(inner: TrainingCallbacks, out: { text: string }): TrainingCallbacks {
  const wrap = <A extends unknown[]>(f: ((...args: A) => void) | undefined) =>
    f && ((...args: A) => {
      out.text += quietly(() => f.apply(inner, args)).printed;
    });
  return {
    onTrainBegin: wrap(inner.onTrainBegin),
    onBatchEnd: wrap(inner.onBatchEnd),
    onEpochEnd: wrap(inner.onEpochEnd),
    onTrainEnd: wrap(inner.onTrainEnd),
  };
}

interface EpochSample {
  epoch: number;
  rss: number;
  heapUsed: number;
  external: number;
  numTensors: number;
  numBytes: number;
}

/**
 * The child: trains the seed model on 3,000 images (the real ones where installed, else the toy
 * set) for 6 epochs and prints one JSON line with a memory sample taken after every epoch.
 */
async function childMain(): Promise<void> {
  const epochs = Number(process.env.FMNIST_MEMORY_EPOCHS ?? 10);
  const samples = Number(process.env.FMNIST_MEMORY_SAMPLES ?? 3000);
  let source = 'toy';
  let data: { train: RawSplit; test: RawSplit };
  try {
    const loaded = await loadFashionMnist({ download: false, quiet: true });
    data = { train: loaded.train, test: loaded.test };
    source = loaded.source;
  } catch {
    data = { train: toyData(samples), test: toyData(500, 7) };
  }
  const t = toTensors(data, { trainSamples: samples, testSamples: 500 });
  const x = reshape(normalize(t.trainX), [-1, 28, 28, 1]);
  const testX = reshape(normalize(t.testX), [-1, 28, 28, 1]);
  const model = buildSeedModel({ seed: 42 });
  compile(model);
  const perEpoch: EpochSample[] = [];
  const run = fit(model, x, t.trainY, {
    epochs,
    batchSize: 32,
    validationSplit: 0.1,
    seed: 42,
    stopOnInterrupt: false,
    callbacks: {
      onEpochEnd(epoch) {
        const m = process.memoryUsage();
        const t = tf.memory();
        perEpoch.push({ epoch: epoch + 1, rss: m.rss, heapUsed: m.heapUsed, external: m.external, numTensors: t.numTensors, numBytes: t.numBytes });
      },
    },
  });
  await run.done;
  const [, testAcc] = evaluate(model, testX, t.testY);
  process.stdout.write(`${JSON.stringify({ source, samples, epochs, testAcc, perEpoch })}\n`);
}

if (process.env[CHILD_ENV] === '1') {
  childMain().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  defineTests();
}

function defineTests(): void {
  const figuresTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-mem-'));

  test('toTensors → normalize → reshape, and the readers, leave no tensor behind', () => {
    const before = tf.memory().numTensors;
    let { trainX, trainY, testX, testY } = toTensors({ train: toyData(60), test: toyData(20, 3) }, { trainSamples: 50, testSamples: 10 });
    assert.equal(tf.memory().numTensors, before + 4);
    trainX = normalize(trainX);
    testX = normalize(testX);
    const x4 = reshape(trainX, [-1, 28, 28, 1]);
    const t4 = reshape(testX, [-1, 28, 28, 1]);
    assert.equal(tf.memory().numTensors, before + 4, 'normalize and reshape replace their input');
    assert.equal(shapeOf(x4), '(50, 28, 28, 1)');
    assert.ok(valueRange(x4).max <= 1);
    assert.equal(imageAt(x4, 3).length, 784);
    assert.equal(imagesAt(x4, 0, 16).length, 16 * 784);
    assert.equal(tf.memory().numTensors, before + 4, 'valueRange, imageAt and imagesAt keep nothing');
    tf.dispose([x4, t4, trainY, testY]);
    assert.equal(tf.memory().numTensors, before);
  });

  test('building and disposing each model gives every tensor back', () => {
    const before = tf.memory().numTensors;
    for (const build of [buildSeedModel, buildCase2Model, buildVgg7Model]) {
      const model = build({ seed: 1 });
      assert.ok(tf.memory().numTensors > before, 'the weights are tensors');
      assert.match(formatSummary(modelSummary(model)), /Total params/);
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${model.name}: build + summary + dispose`);
    }
  });

  test('fit keeps only the optimizer\'s slot variables, and disposing the optimizer restores the baseline', async () => {
    const d = prepared(toyData(200), toyData(50, 9));
    const model = buildSeedModel({ seed: 3 });
    const beforeOptimizer = tf.memory().numTensors;
    compile(model);
    const afterCompile = tf.memory().numTensors;
    // Monitors at verbose 1 and 2, so their callbacks run inside fit too.
    const out = { text: '' };
    const run = fit(model, d.x, d.y, {
      epochs: 2, batchSize: 32, validationSplit: 0.2, seed: 5, stopOnInterrupt: false,
      callbacks: [quietCallbacks(trainingMonitor({ verbose: 1, chart: false }), out), quietCallbacks(trainingMonitor({ verbose: 2 }), out)],
    });
    await run.done;
    assert.equal(run.history.loss.length, 2);
    assert.match(out.text, /val_loss/);
    // What stays is the optimizer's state, no more than Adam's two moments per trainable weight
    // (tfjs' Adam keeps m and v per weight; a flat Adam keeps a few buffers for all of them).
    const state = tf.memory().numTensors - afterCompile;
    assert.ok(state >= 0 && state <= 2 * model.trainableWeights.length, `${state} tensors of optimizer state`);

    // A second fit reuses the same slots, an augmented one makes and frees a tensor per epoch,
    // and a stopped one frees its slices too.
    const slots = tf.memory().numTensors;
    await fit(model, d.x, d.y, { epochs: 1, batchSize: 64, stopOnInterrupt: false }).done;
    assert.equal(tf.memory().numTensors, slots, 'second fit');
    await fit(model, d.x, d.y, { epochs: 2, batchSize: 64, validationSplit: 0.1, stopOnInterrupt: false, augment: new ImageDataGenerator({ rotationRange: 10, seed: 1 }) }).done;
    assert.equal(tf.memory().numTensors, slots, 'fit with augmentation');
    const stopped = fit(model, d.x, d.y, {
      epochs: 3, batchSize: 16, validationSplit: 0.2, stopOnInterrupt: false,
      callbacks: { onBatchEnd: (b) => { if (b === 2) stopped.stop(); } },
    });
    await stopped.done;
    assert.equal(stopped.stopped, true);
    assert.equal(tf.memory().numTensors, slots, 'stopped fit');

    model.optimizer.dispose();
    assert.equal(tf.memory().numTensors, beforeOptimizer, 'optimizer disposed: exactly the baseline');
    model.dispose();
    tf.dispose([d.x, d.y, d.testX, d.testY]);
  });

  test('evaluate and predictProbabilities leave no tensor behind', () => {
    const d = prepared(toyData(30), toyData(250, 9));
    const model = buildSeedModel({ seed: 4 });
    compile(model);
    const before = tf.memory().numTensors;
    const [loss, acc] = evaluate(model, d.testX, d.testY, 100);
    assert.ok(Number.isFinite(loss) && acc >= 0 && acc <= 1);
    assert.equal(tf.memory().numTensors, before, 'evaluate');
    const probs = predictProbabilities(model, d.testX, 64);
    assert.equal(probs.length, 250 * 10);
    assert.equal(tf.memory().numTensors, before, 'predictProbabilities');
    const labels = d.testY.dataSync();
    assert.equal(confusionMatrix(labels, argmaxRows(probs)).length, 10);
    assert.ok(mistakes(labels, probs).length <= 16);
    assert.equal(tf.memory().numTensors, before, 'the analysis on the host');
    model.optimizer.dispose();
    model.dispose();
    tf.dispose([d.x, d.y, d.testX, d.testY]);
  });

  test('augmentation makes no tensors at all', () => {
    const before = tf.memory();
    const images = new Float32Array(20 * 784).map((_, i) => (i % 97) / 97);
    const labels = new Uint8Array(20).map((_, i) => i % 10);
    const options = { rotationRange: 10, zoomRange: 0.1, shearRange: 0.5, widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true };
    assert.equal(augmentCopies(images.subarray(0, 784), 100, { ...options, seed: 1 }).length, 100 * 784);
    assert.equal(augmentDataset(images, labels, 50, options, 2).images.length, 50 * 784);
    const gen = new ImageDataGenerator({ ...options, seed: 3 });
    assert.equal(gen.augment(images, 40).length, 40 * 784);
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors);
    assert.equal(after.numBytes, before.numBytes);
  });

  test('figures and show() in files mode, and a monitor driven by hand, leave no tensor behind', () => {
    const saved = { plots: process.env.FMNIST_PLOTS, dir: process.env.FMNIST_FIGURES_DIR };
    process.env.FMNIST_PLOTS = 'files';
    process.env.FMNIST_FIGURES_DIR = figuresTmp;
    const t = toTensors({ train: toyData(20), test: toyData(10, 5) });
    const x = reshape(normalize(t.trainX), [-1, 28, 28, 1]);
    const before = tf.memory().numTensors;
    try {
      const history: History = { loss: [0.9, 0.5], acc: [0.6, 0.8], val_loss: [0.8, 0.6], val_acc: [0.7, 0.75], seconds: [1, 1] };
      const probs = new Float32Array(10).fill(0.05);
      probs[3] = 0.55;
      const { result: files, printed } = quietly(() => [
        show(imageFigure(imageAt(x, 0), { title: 'first' }), { name: 'first-image' }),
        show(imageGridFigure(imagesAt(x, 0, 16), { rows: 4, cols: 4 }), { name: 'grid' }),
        show(historyFigure(history), { name: 'history' }),
        show(confusionMatrixFigure(confusionMatrix([0, 1, 2, 3], [0, 1, 3, 3]), [...CLASS_NAMES_EN]), { name: 'confusion' }),
        show(probabilityBarFigure(probs, [...CLASS_NAMES_EN], 3), { name: 'bars' }),
      ]);
      assert.equal(files.length, 5);
      for (const f of files) assert.ok(f && fs.existsSync(f), `${f} written`);
      assert.match(printed, /Figure saved/);
      assert.deepEqual(fs.readdirSync(figuresTmp).filter((f) => f.endsWith('.tmp')), []);
      assert.equal(tf.memory().numTensors, before, 'figures and files');

      const monitorRun = quietly(() => {
        for (const verbose of [0, 1, 2] as const) {
          const monitor = trainingMonitor({ verbose, chart: true });
          const h = emptyHistory();
          monitor.onTrainBegin?.({ epochs: 2, batchesPerEpoch: 3, trainSamples: 90, validationSamples: 10 });
          for (let epoch = 0; epoch < 2; epoch++) {
            for (let b = 0; b < 3; b++) monitor.onBatchEnd?.(b, { loss: 1 / (b + 1), acc: 0.5 });
            const logs = { loss: 0.5, acc: 0.8, val_loss: 0.6, val_acc: 0.7, seconds: 0.1 };
            h.loss.push(logs.loss); h.acc.push(logs.acc); h.val_loss.push(logs.val_loss); h.val_acc.push(logs.val_acc); h.seconds.push(logs.seconds);
            monitor.onEpochEnd?.(epoch, logs, h);
          }
          monitor.onTrainEnd?.(h, false);
        }
      });
      assert.match(monitorRun.printed, /2\/2 epochs|Epoch 2\/2/);
      assert.equal(tf.memory().numTensors, before, 'training monitor');
    } finally {
      if (saved.plots === undefined) delete process.env.FMNIST_PLOTS;
      else process.env.FMNIST_PLOTS = saved.plots;
      if (saved.dir === undefined) delete process.env.FMNIST_FIGURES_DIR;
      else process.env.FMNIST_FIGURES_DIR = saved.dir;
      tf.dispose([x, t.trainY, t.testX, t.testY]);
      fs.rmSync(figuresTmp, { recursive: true, force: true });
    }
  });

  test('process memory stays flat across epochs of a real training run (child process)', { timeout: 150_000 }, (t) => {
    const r = spawnSync(process.execPath, [__filename], {
      encoding: 'utf8',
      timeout: 140_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, [CHILD_ENV]: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr}`);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const result = JSON.parse(line) as { source: string; samples: number; epochs: number; testAcc: number; perEpoch: EpochSample[] };
    const { perEpoch } = result;
    assert.equal(perEpoch.length, result.epochs);
    const mb = (b: number) => b / 2 ** 20;
    const rows = perEpoch.map((s) => `epoch ${s.epoch}: rss ${mb(s.rss).toFixed(1)} MB, heap ${mb(s.heapUsed).toFixed(1)} MB, tensors ${s.numTensors}`);
    const diag = `${result.source}, ${result.samples} images, test acc ${result.testAcc.toFixed(3)}\n${rows.join('\n')}`;
    // The same tensors at every epoch end: the model's weights, Adam's slots and the data.
    for (const s of perEpoch) {
      assert.equal(s.numTensors, perEpoch[0].numTensors, `numTensors after epoch ${s.epoch}\n${diag}`);
      assert.equal(s.numBytes, perEpoch[0].numBytes, `numBytes after epoch ${s.epoch}\n${diag}`);
    }
    // RSS from the end of epoch 6 to the end of the last. The first epochs are left out:
    // TensorFlow's CPU allocator, oneDNN and the graph session fill their caches then, and V8's
    // heap takes its working size. Measured with the graph step (3,000 real images, batch 32):
    // RSS rose 742 → 763 MB over epochs 1–6, then 2.4 MB over epochs 6–39 (about 0.1 MB per epoch);
    // V8's heap saw-tooths by about 10 MB between collections. With the eager loop, epoch 2 → 10
    // grew 6.1, 3.8 and 8.1 MB. The bound, 20 MB over the 4 epochs 6 → 10, still catches a leak of
    // one 32-image batch per step (about 8.6 MB per epoch here) or of the data tensor an augmented
    // epoch makes (9.4 MB per epoch).
    const growth = mb(perEpoch[perEpoch.length - 1].rss - perEpoch[5].rss);
    const BOUND_MB = 20;
    assert.ok(growth < BOUND_MB, `RSS grew ${growth.toFixed(1)} MB from epoch 6 to ${perEpoch.length} (bound ${BOUND_MB} MB)\n${diag}`);
    t.diagnostic(`RSS growth epoch 6 → ${perEpoch.length}: ${growth.toFixed(1)} MB\n${diag}`);
  });
}
