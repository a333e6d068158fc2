import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../core/backend';
import { SeededDropout } from './dropout';
import { buildCase2Model, buildSeedModel, buildVgg7Model, formatSummary, modelSummary } from './models';

test('the seed model has 241,546 parameters and Keras-shaped outputs', () => {
  const model = buildSeedModel();
  const s = modelSummary(model);
  assert.equal(s.totalParams, 241546);
  assert.equal(s.trainableParams, 241546);
  assert.deepEqual(s.rows.map((r) => r.outputShape), [
    '(None, 26, 26, 32)', '(None, 13, 13, 32)', '(None, 11, 11, 64)', '(None, 5, 5, 64)', '(None, 3, 3, 128)',
    '(None, 1152)', '(None, 128)', '(None, 128)', '(None, 10)',
  ]);
  // The feature arithmetic the tutorial teaches: 26 × 26 positions × 32 filters after the first conv.
  assert.equal(26 * 26 * 32, 21632);
  assert.match(formatSummary(s), /Total params: 241,546/);
  model.dispose();
});

test('case 2 and VGG-7 have the book\'s parameter counts', () => {
  const case2 = buildCase2Model();
  const vgg7 = buildVgg7Model();
  assert.equal(case2.countParams(), 3989642);
  assert.equal(vgg7.countParams(), 5240842);
  case2.dispose();
  vgg7.dispose();
});

test('kernels use Keras\' glorot_uniform bounds and zero biases, seeded', () => {
  const a = buildSeedModel({ seed: 7 });
  const b = buildSeedModel({ seed: 7 });
  const kernel = a.layers[0].getWeights()[0];
  const bias = a.layers[0].getWeights()[1];
  // glorot_uniform limit = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (9 + 288)).
  const limit = Math.sqrt(6 / (3 * 3 * 1 + 3 * 3 * 32));
  const values = kernel.dataSync();
  assert.ok(values.every((v) => Math.abs(v) <= limit + 1e-7));
  assert.ok(Math.max(...values.map(Math.abs)) > limit * 0.9, 'uniform, not normal: values reach close to the limit');
  assert.ok(bias.dataSync().every((v) => v === 0));
  assert.deepEqual(Array.from(values), Array.from(b.layers[0].getWeights()[0].dataSync()), 'same seed, same weights');
  a.dispose();
  b.dispose();
});

test('building and disposing models leaks no tensors', () => {
  const before = tf.memory().numTensors;
  buildSeedModel().dispose();
  buildCase2Model().dispose();
  buildVgg7Model().dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('seeded dropout: a new mask every step, the same sequence for the same seed, identity at inference', () => {
  const masks = (seed: number) => {
    const layer = new SeededDropout({ rate: 0.5, seed });
    const ones = tf.ones([1, 64]);
    const out = [0, 1, 2].map(() => tf.tidy(() => Array.from((layer.apply(ones, { training: true }) as tf.Tensor).dataSync())));
    const inference = tf.tidy(() => Array.from((layer.apply(ones, { training: false }) as tf.Tensor).dataSync()));
    ones.dispose();
    return { out, inference };
  };
  const a = masks(5);
  const b = masks(5);
  assert.notDeepEqual(a.out[0], a.out[1], 'tfjs\' own seeded dropout would repeat its mask here');
  assert.deepEqual(a.out, b.out);
  assert.ok(a.out[0].every((v) => v === 0 || Math.abs(v - 2) < 1e-6), 'kept units are scaled by 1 / (1 - rate)');
  assert.deepEqual(a.inference, new Array(64).fill(1));
});

test('a model with seeded dropout saves and loads', async () => {
  const model = buildSeedModel();
  const saved: Array<Parameters<typeof tf.io.fromMemory>[0]> = [];
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved.push(artifacts);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved[0]));
  assert.equal(loaded.countParams(), 241546);
  assert.ok(loaded.layers.some((l) => l instanceof SeededDropout));
  model.dispose();
  loaded.dispose();
});
