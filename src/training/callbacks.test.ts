import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir, toyData } from '../../test/support';
import { tf } from '../core/backend';
import { projectRoot } from '../core/paths';
import { normalize, reshape, toTensors } from '../data/preprocess';
import { buildSeedModel } from '../model/models';
import { checkKeptRun, keptRun } from '../runs/persist';
import { ModelCheckpoint } from '../runs/checkpoint';
import { EarlyStopping, ReduceLROnPlateau, TensorBoard } from './callbacks';
import { FitOptions, fit } from './fit';
import { EpochLogs, History, TrainingCallbacks, TrainingContext, emptyHistory } from './history';

/**
 * What Keras 3 itself decided for scripted epoch logs: test/fixtures/keras-callbacks.json, written
 * by scripts/keras_callbacks_reference.py (Keras' own callbacks driven as its fit drives them).
 */
interface Fixture {
  keras: string;
  sequences: Record<string, EpochLogs[]>;
  early_stopping: Array<{ name: string; settings: Record<string, unknown>; sequence: string; ran: number; stopped_epoch: number; best_epoch: number; weights_epoch: number }>;
  reduce_lr_on_plateau: Array<{ name: string; settings: Record<string, unknown>; sequence: string; initial_lr: number; lr: number[]; final_lr: number }>;
  model_checkpoint: Array<{ name: string; settings: Record<string, unknown>; sequence: string; saved: number[] }>;
}
const fixture = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'test', 'fixtures', 'keras-callbacks.json'), 'utf8')) as Fixture;

/** Keras' snake_case arguments as this project's camelCase options. */
function options<T>(settings: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v])) as T;
}

/** A one-weight model, as the reference script uses, so a restore shows which epoch it came from. */
function oneWeightModel(): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, useBias: false, inputShape: [1] })] });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  return model;
}

/** Keras' fit loop around callbacks, as the reference script drives them; returns the epochs run. */
async function drive(callbacks: TrainingCallbacks[], model: tf.LayersModel, epochs: EpochLogs[], lr = { value: 1e-3 }): Promise<number> {
  let stop = false;
  const context: TrainingContext = {
    model,
    stopTraining: () => (stop = true),
    getLearningRate: () => lr.value,
    setLearningRate: (value) => (lr.value = value),
  };
  const history: History = emptyHistory();
  for (const cb of callbacks) cb.onTrainBegin?.({ epochs: epochs.length, batchesPerEpoch: 1, trainSamples: 1, validationSamples: 1 }, context);
  let ran = 0;
  for (const [epoch, logs] of epochs.entries()) {
    tf.tidy(() => model.setWeights([tf.fill([1, 1], epoch)]));
    history.loss.push(logs.loss);
    history.acc.push(logs.acc);
    history.val_loss.push(logs.val_loss);
    history.val_acc.push(logs.val_acc);
    history.seconds.push(0);
    const epochLogs: EpochLogs = { ...logs, seconds: 0 };
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, epochLogs, history, context);
    ran += 1;
    if (stop) break;
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history, stop, context);
  return ran;
}

test(`EarlyStopping stops, and restores, where Keras ${fixture.keras} does, on ${fixture.early_stopping.length} scripted curves`, async () => {
  const model = oneWeightModel();
  const start = tf.memory().numTensors;
  for (const c of fixture.early_stopping) {
    const callback = new EarlyStopping(options(c.settings));
    const ran = await drive([callback], model, fixture.sequences[c.sequence]);
    const weight = model.getWeights()[0].dataSync()[0];
    assert.deepEqual(
      { ran, stopped: callback.stoppedEpoch, best: callback.bestEpoch, weights: weight },
      { ran: c.ran, stopped: c.stopped_epoch, best: c.best_epoch, weights: c.weights_epoch },
      c.name,
    );
  }
  assert.equal(tf.memory().numTensors, start, 'the copies of the best weights are freed');
  model.dispose();
});

test(`ReduceLROnPlateau gives Keras ${fixture.keras}'s learning rate at every epoch, on ${fixture.reduce_lr_on_plateau.length} scripted curves`, async () => {
  const model = oneWeightModel();
  for (const c of fixture.reduce_lr_on_plateau) {
    const callback = new ReduceLROnPlateau(options(c.settings));
    const lr = { value: c.initial_lr };
    const logged: number[] = [];
    const recorder: TrainingCallbacks = { onEpochEnd: (_e, logs) => void logged.push(logs.lr!) };
    await drive([callback, recorder], model, fixture.sequences[c.sequence], lr);
    // Keras keeps the rate as float32 and reports it as a Python float: the same number exactly.
    assert.deepEqual(logged, c.lr, c.name);
    assert.equal(Math.fround(lr.value), c.final_lr, `${c.name}: final rate`);
  }
  model.dispose();
});

test(`ModelCheckpoint keeps the epochs Keras ${fixture.keras} saves, on ${fixture.model_checkpoint.length} scripted curves`, async (t) => {
  const dir = tempDir(t);
  const model = oneWeightModel();
  for (const [i, c] of fixture.model_checkpoint.entries()) {
    const callback = new ModelCheckpoint({ name: `case-${i}`, dir, ...options<Record<string, unknown>>(c.settings) });
    await drive([callback], model, fixture.sequences[c.sequence]);
    assert.deepEqual(callback.savedEpochs, c.saved, c.name);
    if (c.saved.length > 0) {
      // The folder holds the last epoch kept, whole: its weights name that epoch.
      const kept = await callback.load();
      assert.equal(kept.getWeights()[0].dataSync()[0], c.saved[c.saved.length - 1], c.name);
      kept.dispose();
    }
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no staging folder is left behind');
  model.dispose();
});

test('bad callback settings are refused in one line naming the setting', () => {
  assert.throws(() => new EarlyStopping({ monitor: 'val_los' }), /^Error: EarlyStopping: monitor 'val_los' is not one of/);
  assert.throws(() => new EarlyStopping({ patience: -1 }), /EarlyStopping: patience must be a whole number/);
  assert.throws(() => new ReduceLROnPlateau({ factor: 1 }), /ReduceLROnPlateau: factor must be in \[0, 1\)/);
  assert.throws(() => new TensorBoard({ updateFreq: 0 }), /TensorBoard: updateFreq/);
  assert.throws(() => new EarlyStopping({ mode: 'up' as 'min' }), /EarlyStopping: mode must be/);
  assert.throws(() => new ModelCheckpoint({ name: 'Best Model' }), /kept run name 'Best Model' must be lower-case letters/);
});

// --- Real trainings: each callback acting on fit, in both engines where it touches the step.

function compiled(optimizer: tf.Optimizer = tf.train.adam(0.001)) {
  const model = buildSeedModel({ seed: 3 });
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function toySet(n: number) {
  const data = toTensors({ train: toyData(n), test: toyData(10) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  tf.dispose([data.testX, data.testY]);
  return { x, y: data.trainY };
}

/** Every weight at the end of every epoch, as flat arrays (the host's copy, no tensors kept). */
function weightsPerEpoch(model: tf.LayersModel, into: Float32Array[][]): TrainingCallbacks {
  return { onEpochEnd: () => void into.push(model.getWeights().map((w) => w.dataSync().slice() as Float32Array)) };
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  return a.reduce((m, w, i) => w.reduce((mm, v, j) => Math.max(mm, Math.abs(v - b[i][j])), m), 0);
}

test('EarlyStopping ends a real training and restores the best epoch\'s weights, freeing its copies', async () => {
  const { x, y } = toySet(320);
  const model = compiled();
  const before = tf.memory().numTensors;
  const snapshots: Float32Array[][] = [];
  // The loss falls, so in 'max' mode no epoch after the first improves: it stops after patience epochs.
  const stopper = new EarlyStopping({ monitor: 'loss', mode: 'max', patience: 2, restoreBestWeights: true });
  const run = fit(model, x, y, { epochs: 10, batchSize: 32, validationSplit: 0.25, callbacks: [weightsPerEpoch(model, snapshots), stopper] });
  await run.done;
  assert.equal(run.history.loss.length, 3, 'epochs 0, 1 and 2 ran; patience 2 ran out at epoch 2');
  assert.equal(run.stopped, true);
  assert.equal(stopper.stoppedEpoch, 2);
  assert.equal(stopper.bestEpoch, 0);
  const final = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  assert.equal(maxDiff(final, snapshots[0]), 0, 'the weights are exactly those at the end of epoch 0');
  assert.ok(maxDiff(final, snapshots[2]) > 0, 'and no longer those of the last epoch');
  assert.ok(tf.memory().numTensors - before <= 2 * model.trainableWeights.length, 'only the optimizer state remains');
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});

test('ReduceLROnPlateau changes the step size from the next epoch on, in the graph engine, the eager one and tfjs\' own optimizer', async () => {
  const { x, y } = toySet(256);
  const ways: Array<[string, Partial<FitOptions>, () => tf.Optimizer]> = [
    ['graph, Adam', { engine: 'graph' }, () => tf.train.adam(0.001)],
    ['eager, Adam', { engine: 'eager' }, () => tf.train.adam(0.001)],
    ['graph, SGD', { engine: 'graph' }, () => tf.train.sgd(0.05)],
    ['eager, tfjs\' own SGD', { engine: 'eager', flatAdam: false }, () => tf.train.sgd(0.05)],
    ['eager, tfjs\' own Adam', { engine: 'eager', flatAdam: false }, () => tf.train.adam(0.001)],
  ];
  for (const [name, way, optimizer] of ways) {
    const model = compiled(optimizer());
    const lr0 = (model.optimizer as unknown as { learningRate: number }).learningRate;
    const snapshots: Float32Array[][] = [model.getWeights().map((w) => w.dataSync().slice() as Float32Array)];
    // In 'max' mode the falling loss never improves: patience 1 reduces the rate at the end of epoch 1.
    const reducer = new ReduceLROnPlateau({ monitor: 'loss', mode: 'max', patience: 1, factor: 0.01 });
    const run = fit(model, x, y, { epochs: 3, batchSize: 32, seed: 1, ...way, callbacks: [reducer, weightsPerEpoch(model, snapshots)] });
    await run.done;
    assert.deepEqual(run.history.lr, [Math.fround(lr0), Math.fround(lr0), Math.fround(Math.fround(lr0) * 0.01)], `${name}: history.lr`);
    const moved = (e: number) => maxDiff(snapshots[e + 1], snapshots[e]);
    // Epoch 1 trained at lr0, epoch 2 at lr0/100: its weights move far less.
    assert.ok(moved(2) < 0.1 * moved(1), `${name}: the weights moved ${moved(1)} in epoch 1 and ${moved(2)} in epoch 2`);
    model.optimizer.dispose();
    model.dispose();
  }
  tf.dispose([x, y]);
});

test('ModelCheckpoint keeps the best epoch of a real training under the models folder, whole and loadable', async (t) => {
  const dir = tempDir(t);
  const { x, y } = toySet(320);
  const model = compiled();
  const snapshots: Float32Array[][] = [];
  const checkpoint = new ModelCheckpoint({ name: 'best', saveBestOnly: true, dir });
  const run = fit(model, x, y, { epochs: 3, batchSize: 32, validationSplit: 0.25, callbacks: [weightsPerEpoch(model, snapshots), checkpoint] });
  await run.done;
  const val = run.history.val_loss;
  const best = val.indexOf(Math.min(...val));
  assert.equal(checkpoint.savedEpochs[checkpoint.savedEpochs.length - 1], best);
  const folders = fs.readdirSync(dir);
  assert.equal(folders.length, 1, `one folder, each improvement replacing the last: ${folders.join(', ')}`);
  const state = checkKeptRun(path.join(dir, folders[0]));
  assert.ok(state.ok, state.ok ? '' : state.reason);
  assert.equal(state.meta.metrics.epoch, best + 1);
  assert.equal(state.meta.history.loss.length, best + 1);
  const kept = await checkpoint.load();
  assert.equal(maxDiff(kept.getWeights().map((w) => w.dataSync().slice() as Float32Array), snapshots[best]), 0);
  kept.dispose();
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});

test('a callback can stop training from onBatchEnd, and a validation monitor without validation data is refused', async () => {
  const { x, y } = toySet(128);
  const model = compiled();
  const run = fit(model, x, y, { epochs: 5, batchSize: 32, callbacks: { onBatchEnd: (b, _l, context) => b === 1 && context?.stopTraining() } });
  await run.done;
  assert.equal(run.history.loss.length, 0, 'stopped inside the first epoch, which is not recorded');
  assert.equal(run.stopped, true);
  await assert.rejects(fit(model, x, y, { epochs: 1, callbacks: new EarlyStopping() }).done, /EarlyStopping: monitor 'val_loss' needs validation data/);
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});

test('TensorBoard writes the epoch scalars that history holds, read back by TensorBoard\'s own reader', async (t) => {
  const dir = tempDir(t);
  const { x, y } = toySet(256);
  const model = compiled();
  const logDir = path.join(dir, 'run1');
  const callbacks = [new ReduceLROnPlateau({ monitor: 'loss', mode: 'max', patience: 1 }), new TensorBoard({ logDir, updateFreq: 2 })];
  const run = fit(model, x, y, { epochs: 3, batchSize: 32, validationSplit: 0.25, callbacks });
  await run.done;
  const python = path.join(projectRoot(), '.venv', 'bin', 'python');
  const read = spawnSync(python, ['-c', `
import json, sys, types
# TensorBoard's reader without TensorFlow (its own stub), as it runs where TensorFlow is not installed.
sys.modules['tensorboard.compat.notf'] = types.ModuleType('notf')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
out = {}
for part in ('train', 'validation'):
    acc = EventAccumulator(sys.argv[1] + '/' + part, size_guidance={'scalars': 0})
    acc.Reload()
    out[part] = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}
print(json.dumps(out))`, logDir], { encoding: 'utf8' });
  assert.equal(read.status, 0, read.stderr);
  const events = JSON.parse(read.stdout) as Record<string, Record<string, Array<[number, number]>>>;
  const h = run.history;
  const close = (tag: string, got: Array<[number, number]>, want: number[]) => {
    assert.deepEqual(got.map(([step]) => step), [0, 1, 2], tag);
    got.forEach(([, v], i) => assert.equal(v, Math.fround(want[i]), `${tag} at epoch ${i}`));
  };
  close('train/epoch_loss', events.train.epoch_loss, h.loss);
  close('train/epoch_acc', events.train.epoch_acc, h.acc);
  close('train/epoch_learning_rate', events.train.epoch_learning_rate, h.lr!);
  close('validation/epoch_loss', events.validation.epoch_loss, h.val_loss);
  close('validation/epoch_acc', events.validation.epoch_acc, h.val_acc);
  // 6 batches an epoch, every 2nd batch: 9 points over 3 epochs, at batches 2, 4, … 18.
  assert.deepEqual(events.train.batch_loss.map(([step]) => step), [2, 4, 6, 8, 10, 12, 14, 16, 18]);
  const before = tf.memory().numTensors;
  await fit(model, x, y, { epochs: 1, batchSize: 32, validationSplit: 0.25, callbacks: [new TensorBoard({ logDir })] }).done;
  assert.equal(tf.memory().numTensors, before, 'the writers are closed and freed at the end of training');
  assert.equal(fs.readdirSync(path.join(logDir, 'train')).length, 2, 'the second training wrote a file of its own');
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});

test('a training EarlyStopping ended is kept and loaded again; other shaping callbacks make another run', async (t) => {
  const dir = tempDir(t);
  const { x, y } = toySet(256);
  const train = async (callbacks: TrainingCallbacks[]) => {
    const model = compiled();
    const run = fit(model, x, y, { epochs: 6, batchSize: 32, validationSplit: 0.25, seed: 2, callbacks, keep: keptRun('es', { dir, log: null }) });
    await run.done;
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.optimizer.dispose();
    model.dispose();
    return { run, weights };
  };
  const stopper = () => new EarlyStopping({ monitor: 'loss', mode: 'max', patience: 1, restoreBestWeights: true });
  const first = await train([stopper()]);
  assert.equal(first.run.source, 'trained');
  assert.equal(first.run.history.loss.length, 2, 'stopped after epoch 1');
  const again = await train([stopper()]);
  assert.equal(again.run.source, 'loaded', 'the same training with the same callback is loaded');
  assert.deepEqual(again.run.history.loss, first.run.history.loss);
  assert.equal(maxDiff(again.weights, first.weights), 0);
  const other = await train([stopper(), new ReduceLROnPlateau({ monitor: 'loss', patience: 1 })]);
  assert.equal(other.run.source, 'trained', 'another shaping callback is another training');
  assert.equal(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length, 2);
  tf.dispose([x, y]);
});
