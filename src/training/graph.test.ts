import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../core/backend';
import { buildSeedModel, buildVgg7Model } from '../model/models';
import { kerasLayers } from '../model/keras';
import { FitOptions, chooseEngine, fit } from './fit';
import { compileGraphTrainer, planGraph } from './graph';
import { optimizerRule, optimizerState } from './optimizers';

type Build = () => tf.Sequential;
type Optimizer = () => tf.Optimizer;

/** A seeded batch of images (rows × cols × channels) and labels; the numbers only need to be the same for both engines. */
function batch(n: number, shape: number[], seed = 3): { x: tf.Tensor; labels: tf.Tensor1D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, ...shape], 0, 1, 'float32', seed),
    labels: tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10), 'int32'),
  }));
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((t, i) => t.forEach((v, k) => (max = Math.max(max, Math.abs(v - b[i][k])))));
  return max;
}

/**
 * Trains two copies of one model (same seeds, so the same starting weights) for two steps on the
 * same batches, once per engine, and returns the losses and weights each ended with.
 */
async function trainBoth(build: Build, optimizer: Optimizer, ways: Array<Partial<FitOptions>>, loss = 'sparseCategoricalCrossentropy', oneHot = false) {
  const model0 = build();
  const { x, labels } = batch(16, model0.inputs[0].shape.slice(1) as number[]);
  model0.dispose();
  const y = oneHot ? tf.tidy(() => tf.oneHot(labels, 10).toFloat()) : labels;
  const results: Array<{ loss: number; valLoss: number; weights: Float32Array[]; engine?: string }> = [];
  for (const way of ways) {
    const model = build();
    model.compile({ optimizer: optimizer(), loss, metrics: ['accuracy'] });
    // 12 images train in two steps (8 and 4); the last 4 validate, through each engine's evaluation.
    const run = fit(model, x, y, { epochs: 1, batchSize: 8, seed: 5, validationSplit: 0.25, ...way });
    await run.done;
    results.push({ loss: run.history.loss[0], valLoss: run.history.val_loss[0], weights: weightsOf(model), engine: run.history.engine });
    const opt = model.optimizer;
    opt.dispose();
    // tfjs' MomentumOptimizer.dispose leaves behind the learning-rate scalar its SGD parent made.
    tf.dispose((opt as unknown as { c?: tf.Tensor }).c);
    model.dispose();
  }
  tf.dispose([x, labels, y]);
  return results;
}

/** Graph and eager (with the rulebook's optimizer) end two steps with the same loss and weights. */
async function assertEquivalent(name: string, build: Build, optimizer: Optimizer, tolerance = 2e-5, loss?: string, oneHot?: boolean) {
  const start = tf.memory().numTensors;
  const [graph, eager] = await trainBoth(build, optimizer, [{ engine: 'graph' }, { engine: 'eager' }], loss, oneHot);
  assert.equal(graph.engine, 'graph', `${name}: the graph engine trained`);
  assert.ok(Math.abs(graph.loss - eager.loss) < 1e-5, `${name}: loss ${graph.loss} (graph) vs ${eager.loss} (eager)`);
  assert.ok(Math.abs(graph.valLoss - eager.valLoss) < Math.max(1e-5, 10 * tolerance), `${name}: val_loss ${graph.valLoss} (graph) vs ${eager.valLoss} (eager)`);
  const diff = maxDifference(graph.weights, eager.weights);
  assert.ok(diff < tolerance, `${name}: largest weight difference ${diff}`);
  assert.ok(maxDifference(graph.weights, weightsOf0(build)) > 0, `${name}: the weights moved`);
  assert.equal(tf.memory().numTensors, start, `${name}: no tensor left behind`);
}

/** The starting weights of `build`, to check that training changed them. */
function weightsOf0(build: Build): Float32Array[] {
  const model = build();
  const w = weightsOf(model);
  model.dispose();
  return w;
}

const adam = () => tf.train.adam(0.001, 0.9, 0.999, 1e-7);
const sgd = () => tf.train.sgd(0.05);

test('graph and eager agree: the seed model with Adam (conv, max pool, flatten, dense, dropout)', async () => {
  await assertEquivalent('seed model', () => buildSeedModel({ convFilters: [4, 6, 8], denseUnits: 16, seed: 11 }), adam, 1e-4);
});

test('graph and eager agree: same padding, another input size, average pooling, global average pooling', async () => {
  const build = () => {
    const l = kerasLayers({ seed: 2 });
    return tf.sequential({ layers: [
      l.Conv2D({ inputShape: [12, 10, 2], kernelSize: 3, filters: 4, padding: 'same', activation: 'relu' }),
      l.AveragePooling2D({ poolSize: 2, strides: 2 }),
      l.Conv2D({ kernelSize: 3, filters: 5, padding: 'same' }),
      l.GlobalAveragePooling2D(),
      l.Dense({ units: 10, activation: 'softmax' }),
    ] });
  };
  await assertEquivalent('pooling', build, sgd);
});

for (const activation of ['tanh', 'sigmoid', 'elu', 'selu', 'relu', 'linear'] as const) {
  test(`graph and eager agree: ${activation} in Conv2D and Dense`, async () => {
    const build = () => {
      const l = kerasLayers({ seed: 4 });
      return tf.sequential({ layers: [
        l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 3, activation }),
        l.Flatten(),
        l.Dense({ units: 12, activation }),
        l.Dense({ units: 10, activation: 'softmax' }),
      ] });
    };
    await assertEquivalent(activation, build, sgd);
  });
}

const small = (options: { regularizer?: boolean; frozen?: boolean } = {}) => () => {
  const l = kerasLayers({ seed: 6 });
  const kernelRegularizer = options.regularizer ? tf.regularizers.l2({ l2: 0.01 }) : undefined;
  const model = tf.sequential({ layers: [
    l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 4, activation: 'relu', kernelRegularizer }),
    l.MaxPool2D({ poolSize: 2, strides: 2 }),
    l.Flatten(),
    l.Dense({ units: 12, activation: 'relu', kernelRegularizer }),
    l.Dropout({ rate: 0.25 }),
    l.Dense({ units: 10, activation: 'softmax' }),
  ] });
  if (options.frozen) model.layers[0].trainable = false;
  return model;
};

test('graph and eager agree: BatchNormalization after Conv2D and after Dense, moving statistics included', async () => {
  const build = () => {
    const l = kerasLayers({ seed: 9 });
    return tf.sequential({ layers: [
      l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 4 }),
      l.BatchNormalization({ momentum: 0.5 }),
      l.Flatten(),
      l.Dense({ units: 12, activation: 'relu' }),
      l.BatchNormalization(),
      l.Dense({ units: 10, activation: 'softmax' }),
    ] });
  };
  // SGD, not Adam: the bias of a Conv2D right before BatchNormalization has a gradient of zero up
  // to rounding, which Adam's first steps would blow up to ±lr on either engine.
  await assertEquivalent('batch normalization', build, sgd, 1e-5);
  const [graph] = await trainBoth(build, sgd, [{ engine: 'graph' }]);
  const model = build();
  // getWeights lists the trainable weights first; the moving mean and variance follow.
  const movingBefore = model.getWeights().slice(-4).map((w) => w.dataSync() as Float32Array);
  model.dispose();
  assert.ok(maxDifference(graph.weights.slice(-4), movingBefore) > 1e-3, 'the moving statistics moved');
});

test('graph and eager agree: L2 kernel regularisers, in the loss and in the gradient', async () => {
  await assertEquivalent('l2', small({ regularizer: true }), sgd);
  const [withL2] = await trainBoth(small({ regularizer: true }), sgd, [{ engine: 'graph' }]);
  const [without] = await trainBoth(small(), sgd, [{ engine: 'graph' }]);
  assert.ok(withL2.loss > without.loss, `the penalty is part of the loss: ${withL2.loss} > ${without.loss}`);
});

test('graph and eager agree: a frozen layer (trainable = false) keeps its weights', async () => {
  await assertEquivalent('frozen', small({ frozen: true }), adam, 1e-4);
  const [graph] = await trainBoth(small({ frozen: true }), adam, [{ engine: 'graph' }]);
  const before = weightsOf0(small({ frozen: true }));
  // getWeights lists the trainable weights first, so the frozen Conv2D's kernel and bias come last.
  assert.equal(maxDifference(graph.weights.slice(-2), before.slice(-2)), 0, 'the frozen kernel and bias are unchanged');
  assert.ok(maxDifference(graph.weights.slice(0, -2), before.slice(0, -2)) > 0, 'the other layers trained');
});

for (const [name, optimizer] of [
  ['SGD', () => tf.train.sgd(0.05)],
  ['momentum', () => tf.train.momentum(0.05, 0.9)],
  ['Nesterov momentum', () => tf.train.momentum(0.05, 0.9, true)],
  ['RMSprop', () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7)],
] as Array<[string, Optimizer]>) {
  test(`graph, eager and tfjs' own ${name} agree`, async () => {
    await assertEquivalent(name, small(), optimizer, 1e-5);
    // The rule follows the tfjs optimizer the notebook created: tfjs' own update gives the same weights.
    const [graph, own] = await trainBoth(small(), optimizer, [{ engine: 'graph' }, { engine: 'eager', flatAdam: false }]);
    const diff = maxDifference(graph.weights, own.weights);
    assert.ok(diff < 1e-5, `graph vs tfjs' own ${name}: ${diff}`);
  });
}

test('compile is honoured: categorical cross-entropy takes one-hot labels on both engines', async () => {
  await assertEquivalent('one-hot', small(), adam, 1e-4, 'categoricalCrossentropy', true);
  // The same labels as class ids with the sparse loss give the same training.
  const [sparse] = await trainBoth(small(), adam, [{ engine: 'graph' }]);
  const [onehot] = await trainBoth(small(), adam, [{ engine: 'graph' }], 'categoricalCrossentropy', true);
  assert.ok(Math.abs(sparse.loss - onehot.loss) < 1e-5, `${sparse.loss} vs ${onehot.loss}`);
});

test('compile is honoured: a loss or metric the engines cannot compute is refused in one line before training', () => {
  const { x, labels } = batch(4, [8, 8, 1]);
  const cases: Array<[string | string[], string[], RegExp]> = [
    ['meanSquaredError', ['accuracy'], /^fit: loss 'meanSquaredError' cannot be trained here/],
    ['sparseCategoricalCrossentropy', ['mse'], /^fit: metrics \["mse"\] cannot be reported here/],
  ];
  for (const [loss, metrics, message] of cases) {
    const model = small()();
    model.compile({ optimizer: 'sgd', loss, metrics });
    assert.throws(() => fit(model, x, labels, { epochs: 1 }), (err: Error) => message.test(err.message) && !err.message.includes('\n'));
    model.dispose();
  }
  const model = small()();
  model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  assert.throws(() => fit(model, x, labels, { epochs: 1 }), /^Error: fit: y must be a 2-D float32 tensor of one-hot rows for categorical_crossentropy/);
  model.dispose();
  tf.dispose([x, labels]);
});

test('the engine decision: graph when every rule exists, else eager with the first missing rule named', () => {
  const decide = (build: () => tf.LayersModel, optimizer: tf.Optimizer | string = adam()) => {
    const model = build();
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const choice = chooseEngine(model);
    model.dispose();
    return choice.reason ? `${choice.engine} — ${choice.reason}` : choice.engine;
  };
  assert.equal(decide(() => buildSeedModel()), 'graph');
  assert.equal(decide(() => buildVgg7Model()), 'graph', 'VGG-7 (same padding, relu convolutions) trains on the graph engine');
  const withLeakyRelu = () => {
    const l = kerasLayers();
    return tf.sequential({ layers: [l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 2 }), tf.layers.leakyReLU(), l.Flatten(), l.Dense({ units: 10, activation: 'softmax' })] });
  };
  assert.equal(decide(withLeakyRelu), 'eager — LeakyReLU has no graph rule yet');
  const softplus = () => {
    const l = kerasLayers();
    return tf.sequential({ layers: [l.Flatten({ inputShape: [4, 4, 1] }), l.Dense({ units: 5, activation: 'softplus' }), l.Dense({ units: 10, activation: 'softmax' })] });
  };
  assert.equal(decide(softplus), 'eager — Dense activation softplus has no graph rule yet');
  const noSoftmax = () => {
    const l = kerasLayers();
    return tf.sequential({ layers: [l.Flatten({ inputShape: [4, 4, 1] }), l.Dense({ units: 10 })] });
  };
  assert.equal(decide(noSoftmax), 'eager — the graph rules need a last Dense layer with softmax');
  assert.equal(decide(() => buildSeedModel(), tf.train.adagrad(0.01)), 'eager — optimizer Adagrad has no rule yet (rules: Adam, SGD, Momentum, RMSProp)');
  assert.equal(decide(() => buildSeedModel(), tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true)), 'eager — centered RMSprop has no rule yet');
  const functional = () => {
    const input = tf.input({ shape: [4] });
    return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 10, activation: 'softmax' }).apply(input) as tf.SymbolicTensor });
  };
  assert.equal(decide(functional), 'eager — only Sequential models have a graph rule yet');

  const model = withLeakyRelu();
  model.compile({ optimizer: adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  assert.throws(() => chooseEngine(model, 'graph'), /^Error: fit: engine 'graph' cannot train this model: LeakyReLU has no graph rule yet$/);
  model.optimizer.dispose();
  model.dispose();
});

test('a model the graph cannot take trains on the eager engine, and history says why', async () => {
  const build = () => {
    const l = kerasLayers({ seed: 8 });
    return tf.sequential({ layers: [l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 2 }), tf.layers.leakyReLU(), l.Flatten(), l.Dense({ units: 10, activation: 'softmax' })] });
  };
  const [run] = await trainBoth(build, adam, [{}]);
  assert.equal(run.engine, 'eager — LeakyReLU has no graph rule yet');
  assert.ok(Number.isFinite(run.loss));
});

test('VGG-7 trains on the graph engine', async () => {
  const start = tf.memory().numTensors;
  const model = buildVgg7Model({ seed: 1 });
  model.compile({ optimizer: adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const { x, labels } = batch(16, [28, 28, 1]);
  const run = fit(model, x, labels, { epochs: 1, batchSize: 8, engine: 'graph' });
  await run.done;
  assert.equal(run.history.engine, 'graph');
  assert.ok(Number.isFinite(run.history.loss[0]));
  tf.dispose([x, labels]);
  model.optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test('batch halves: whole and split batches train to the same weights, odd batches and a batch of one included', async () => {
  const start = tf.memory().numTensors;
  const build = () => buildSeedModel({ convFilters: [4, 6, 8], denseUnits: 16, seed: 11 });
  // 9 training images in batches of 4: halves of 2 and 2, then a batch of one, which trains whole.
  const { x, labels } = batch(12, [28, 28, 1], 4);
  const results: Array<{ loss: number; valLoss: number; weights: Float32Array[] }> = [];
  for (const way of [{ splitBatch: true }, { splitBatch: false }, { engine: 'eager' as const }]) {
    const model = build();
    model.compile({ optimizer: adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const run = fit(model, x, labels, { epochs: 2, batchSize: 4, seed: 5, validationSplit: 0.25, ...way });
    await run.done;
    results.push({ loss: run.history.loss[1], valLoss: run.history.val_loss[1], weights: weightsOf(model) });
    model.optimizer.dispose();
    model.dispose();
  }
  const [halves, whole, eager] = results;
  assert.ok(Math.abs(halves.loss - whole.loss) < 1e-6, `loss ${halves.loss} (halves) vs ${whole.loss} (whole)`);
  assert.ok(Math.abs(halves.valLoss - whole.valLoss) < 1e-6, `val_loss ${halves.valLoss} (halves) vs ${whole.valLoss} (whole)`);
  assert.ok(maxDifference(halves.weights, whole.weights) < 1e-5, `weights differ by ${maxDifference(halves.weights, whole.weights)}`);
  assert.ok(maxDifference(halves.weights, eager.weights) < 1e-4, `halves and eager differ by ${maxDifference(halves.weights, eager.weights)}`);
  tf.dispose([x, labels]);
  assert.equal(tf.memory().numTensors, start);
});

test('batch halves: the trainer splits where asked, and never a model whose layer needs the whole batch', async () => {
  const plain = buildSeedModel({ convFilters: [4, 6, 8], denseUnits: 16, seed: 11 });
  const l = kerasLayers({ seed: 3 });
  const normed = tf.sequential({ layers: [l.Conv2D({ inputShape: [8, 8, 1], kernelSize: 3, filters: 2 }), l.BatchNormalization(), l.Flatten(), l.Dense({ units: 10, activation: 'softmax' })] });
  for (const [model, split, expected] of [[plain, true, true], [plain, false, false], [normed, true, false]] as const) {
    const optimizer = adam();
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
    const plan = planGraph(model);
    assert.ok(!('reason' in plan));
    const found = optimizerRule(optimizer);
    assert.ok('rule' in found);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainer = await compileGraphTrainer(plan, optimizerState(optimizer, found.rule, found.settings, variables), { splitBatch: split });
    assert.equal(trainer.halves, expected, `${model.layers.length} layers, splitBatch ${split}`);
    trainer.dispose();
    optimizer.dispose();
  }
  plain.dispose();
  normed.dispose();
});

test('the session keeps the weights during an epoch: callbacks read the trained ones, and weights they set are trained from', async () => {
  const start = tf.memory().numTensors;
  const model = buildSeedModel({ convFilters: [4, 6, 8], denseUnits: 16, seed: 11 });
  // A learning rate of 0: training leaves the weights where the callback put them.
  model.compile({ optimizer: tf.train.adam(0), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const { x, labels } = batch(16, [28, 28, 1]);
  const initial = weightsOf(model);
  const halved = model.getWeights().map((w) => tf.mul(w, 0.5));
  const seen: Float32Array[][] = [];
  const run = fit(model, x, labels, {
    epochs: 2, batchSize: 4, validationSplit: 0.25, engine: 'graph',
    callbacks: {
      onEpochEnd(epoch) {
        seen.push(weightsOf(model));
        if (epoch === 0) model.setWeights(halved);
      },
    },
  });
  await run.done;
  assert.equal(maxDifference(seen[0], initial), 0, 'epoch 0 trained with a learning rate of 0');
  const expected = halved.map((w) => w.dataSync() as Float32Array);
  assert.equal(maxDifference(seen[1], expected), 0, 'epoch 1 trained from the weights the callback set');
  assert.equal(maxDifference(weightsOf(model), expected), 0, 'the model ends with them');
  assert.notEqual(run.history.val_loss[1], run.history.val_loss[0], 'validation after the change used the new weights');
  tf.dispose([x, labels, ...halved]);
  model.optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});
