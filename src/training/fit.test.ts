import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toyData } from '../../test/support';
import { tf } from '../core/backend';
import { confusionMatrix, evaluate, mistakes, perClassAccuracy, predictProbabilities } from './evaluate';
import { buildSeedModel } from '../model/models';
import { normalize, reshape, shapeOf, toTensors, valueRange } from '../data/preprocess';
import { FitOptions, fit, sparseCategoricalCrossentropy } from './fit';


function compiled(seed = 3, epsilon = 1e-7) {
  const model = buildSeedModel({ seed });
  model.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, epsilon), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

test('preprocessing mirrors the seed: counts, ÷255, reshape to (N, 28, 28, 1), inputs disposed', () => {
  const before = tf.memory().numTensors;
  let { trainX, trainY, testX, testY } = toTensors({ train: toyData(50), test: toyData(20) }, { trainSamples: 40 });
  assert.equal(shapeOf(trainX), '(40, 28, 28)');
  assert.equal(shapeOf(trainY), '(40,)');
  assert.equal(valueRange(trainX).max > 200, true);
  trainX = normalize(trainX);
  assert.ok(valueRange(trainX).max <= 1);
  const x4 = reshape(trainX, [-1, 28, 28, 1]);
  assert.equal(shapeOf(x4), '(40, 28, 28, 1)');
  tf.dispose([x4, trainY, testX, testY]);
  assert.equal(tf.memory().numTensors, before);
});

test('cross-entropy matches the formula, with Keras\' clipping', () => {
  const loss = tf.tidy(() =>
    sparseCategoricalCrossentropy(tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[0.5, 0.5], [0, 1]])).dataSync()[0]);
  assert.ok(Math.abs(loss - (-Math.log(0.5) - Math.log(1 - 1e-7)) / 2) < 1e-6);
});

test('fit learns the toy set, keeps Keras\' split and history keys, and leaks nothing but optimizer state', async () => {
  const start = tf.memory().numTensors;
  const data = toTensors({ train: toyData(400), test: toyData(100, 9) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  const testX = reshape(normalize(data.testX), [-1, 28, 28, 1]);
  const model = compiled();
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  let begin: { trainSamples: number; validationSamples: number } | undefined;
  const run = fit(model, x, data.trainY, {
    epochs: 3, batchSize: 32, validationSplit: 0.25, seed: 5,
    callbacks: { onTrainBegin: (info) => (begin = info), onBatchEnd: (b) => seen.push(b) },
  });
  await run.done;
  const history = run.history;
  assert.deepEqual(begin && [begin.trainSamples, begin.validationSamples], [300, 100]);
  assert.equal(seen.length, 3 * Math.ceil(300 / 32));
  assert.deepEqual(Object.keys(history).sort(), ['acc', 'engine', 'loss', 'seconds', 'val_acc', 'val_loss']);
  assert.equal(history.engine, 'graph', 'the seed model trains on the graph engine, and history says so');
  assert.equal(history.loss.length, 3);
  assert.ok(history.loss.every(Number.isFinite));
  assert.ok(history.loss[2] < history.loss[0], 'loss falls');
  const [loss, acc] = evaluate(model, testX, data.testY);
  assert.ok(Number.isFinite(loss));
  assert.ok(acc > 0.5, `toy accuracy ${acc} should be far above chance`);
  // Only the optimizer's state remains, and it goes with the optimizer.
  assert.ok(tf.memory().numTensors - before <= 2 * model.trainableWeights.length);
  const probs = predictProbabilities(model, testX);
  const preds = Array.from({ length: 100 }, (_, i) => probs.subarray(i * 10, i * 10 + 10).indexOf(Math.max(...probs.subarray(i * 10, i * 10 + 10))));
  const cm = confusionMatrix(Array.from(data.testY.dataSync()), preds);
  assert.deepEqual(cm.map((row) => row.reduce((a, b) => a + b, 0)), new Array(10).fill(10));
  assert.equal(perClassAccuracy(cm).length, 10);
  assert.ok(mistakes(Array.from(data.testY.dataSync()), probs).every((m) => m.trueLabel !== m.predicted));
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, testX, data.trainY, data.testY]);
  assert.equal(tf.memory().numTensors, start, 'disposing the optimizer frees its state; nothing else is left');
});

test('same seed, same run: weights and shuffling repeat', async () => {
  const data = toTensors({ train: toyData(128), test: toyData(10) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  const losses: number[][] = [];
  for (let i = 0; i < 2; i++) {
    const model = compiled(11);
    const run = fit(model, x, data.trainY, { epochs: 1, batchSize: 32, validationSplit: 0.25, seed: 2 });
    await run.done;
    losses.push(run.history.loss);
    model.optimizer.dispose();
    model.dispose();
  }
  assert.ok(Math.abs(losses[0][0] - losses[1][0]) < 1e-4, `${losses[0][0]} vs ${losses[1][0]}`);
  tf.dispose([x, data.trainY, data.testX, data.testY]);
});

test('stop() ends training after the current batch and keeps finished epochs', async () => {
  const data = toTensors({ train: toyData(320), test: toyData(10) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  const model = compiled();
  let ended: boolean | undefined;
  const run = fit(model, x, data.trainY, {
    epochs: 50, batchSize: 32, validationSplit: 0.25,
    callbacks: { onEpochEnd: (epoch) => epoch === 1 && run.stop(), onTrainEnd: (_h, stopped) => (ended = stopped) },
  });
  await run.done;
  assert.equal(run.history.loss.length, 2);
  assert.equal(run.stopped, true);
  assert.equal(ended, true);
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, data.trainY, data.testX, data.testY]);
});

test('bad inputs are refused before training', () => {
  const model = compiled();
  const x = tf.zeros([4, 28, 28, 1]);
  assert.throws(() => fit(model, x, tf.tensor1d([0, 1, 2], 'int32'), { epochs: 1 }), /4 images but y has 3 labels/);
  assert.throws(() => fit(model, x, tf.tensor1d([0, 1, 2, 3], 'int32'), { epochs: 0 }), /epochs must be a positive integer/);
  const raw = buildSeedModel();
  assert.throws(() => fit(raw, x, tf.tensor1d([0, 1, 2, 3], 'int32'), { epochs: 1 }), /call model.compile/);
  model.dispose();
  raw.dispose();
  x.dispose();
});

test('on-the-fly augmentation trains on fresh copies each epoch and frees them', async () => {
  const { ImageDataGenerator } = await import('../augment/augment');
  const start = tf.memory().numTensors;
  const data = toTensors({ train: toyData(160), test: toyData(10) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  const model = compiled();
  const augment = new ImageDataGenerator({ rotationRange: 10, widthShiftRange: 0.1, seed: 1 });
  const before = tf.memory().numTensors;
  const run = fit(model, x, data.trainY, { epochs: 2, batchSize: 32, validationSplit: 0.25, augment });
  await run.done;
  assert.equal(run.history.loss.length, 2);
  assert.ok(run.history.loss.every(Number.isFinite));
  assert.ok(tf.memory().numTensors - before <= 2 * model.trainableWeights.length);
  model.optimizer.dispose();
  model.dispose();
  tf.dispose([x, data.trainY, data.testX, data.testY]);
  assert.equal(tf.memory().numTensors, start, 'nothing remains once the optimizer is disposed');
});

test('the fused logits loss equals cross-entropy of the softmax, in value and gradient', () => {
  const { sparseSoftmaxCrossEntropyWithLogits } = require('../core/native') as typeof import('../core/native');
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    const logits = tf.randomNormal([16, 10], 0, 3, 'float32', 7) as tf.Tensor2D;
    const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i * 7) % 10), 'int32');
    const fused = (z: tf.Tensor) => sparseSoftmaxCrossEntropyWithLogits(z as tf.Tensor2D, labels);
    const plain = (z: tf.Tensor) => sparseCategoricalCrossentropy(labels, tf.softmax(z) as tf.Tensor2D);
    assert.ok(Math.abs(fused(logits).dataSync()[0] - plain(logits).dataSync()[0]) < 1e-5);
    const g1 = tf.grad(fused)(logits).dataSync();
    const g2 = tf.grad(plain)(logits).dataSync();
    g1.forEach((v, i) => assert.ok(Math.abs(v - g2[i]) < 1e-5, `gradient ${i}: ${v} vs ${g2[i]}`));
  });
  assert.equal(tf.memory().numTensors, start);
});

test('the graph step, the fast eager step and tfjs\' own path train to the same weights', async () => {
  const data = toTensors({ train: toyData(96), test: toyData(10) });
  const x = reshape(normalize(data.trainX), [-1, 28, 28, 1]);
  const start = tf.memory().numTensors;
  // [name, options, tolerance]: the graph and the fast eager step do the same arithmetic; tfjs'
  // own Adam adds epsilon to the bias-corrected √v̂ where Keras adds it to √v, which moves
  // weights with near-zero gradients by up to about 5e-5 per step.
  const ways: Array<[string, Partial<FitOptions>, number]> = [
    ['graph', { engine: 'graph' }, 0],
    ['eager, flat Adam and fused loss', { engine: 'eager' }, 1e-4],
    ['eager, tfjs Adam and loss on probabilities', { engine: 'eager', flatAdam: false, fromLogits: false }, 1e-3],
  ];
  const weights: Float32Array[] = [];
  for (const [, way] of ways) {
    // A tiny epsilon keeps that difference small enough to test the rest of the arithmetic.
    const model = compiled(21, 1e-12);
    await fit(model, x, data.trainY, { epochs: 2, batchSize: 32, validationSplit: 0.25, seed: 4, ...way }).done;
    weights.push(model.layers[6].getWeights()[0].dataSync() as Float32Array);
    model.optimizer.dispose();
    model.dispose();
  }
  // The same dropout masks on every path; after 6 steps the weights agree within the tolerance.
  for (let w = 1; w < ways.length; w++) {
    const maxDiff = weights[0].reduce((m, v, i) => Math.max(m, Math.abs(v - weights[w][i])), 0);
    assert.ok(maxDiff < ways[w][2], `${ways[w][0]} vs graph: max weight difference ${maxDiff}`);
  }
  assert.ok(weights[0].every(Number.isFinite));
  assert.equal(tf.memory().numTensors, start, 'graph sessions, moments and batches are all freed');
  tf.dispose([x, data.trainY, data.testX, data.testY]);
});
