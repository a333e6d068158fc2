/**
 * One factory function per architecture of the tutorial and its book chapter. Nothing is built at
 * import time. Keras' defaults are spelled out where tfjs-layers differs: Keras initialises Conv2D
 * and Dense kernels with `glorot_uniform`, tfjs-layers with `glorotNormal`
 * (tfjs-layers/src/layers/convolutional.ts and core.ts, DEFAULT_KERNEL_INITIALIZER), so every
 * layer here names `glorotUniform`, seeded, and zero biases. Introduced in notebook 01, step 6.
 */
import { tf } from './backend';
import { Rng, createRng } from './random';

interface SeededDropoutConfig {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * Dropout whose masks are repeatable from a seed yet new at every step. tfjs' own Dropout layer,
 * given a seed, draws the SAME mask on every call (tfjs-core's dropout builds a fresh
 * seedrandom.alea(seed) each time), which silently turns dropout into a fixed pruning of the
 * layer; without a seed it cannot be repeated. Keras advances a seed generator per call; this
 * layer does the same: a seeded stream hands each call its own mask seed.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private rng: Rng;

  constructor(config: SeededDropoutConfig) {
    super({ name: config.name });
    if (!(config.rate >= 0 && config.rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${config.rate}`);
    this.rate = config.rate;
    this.seed = config.seed;
    this.rng = createRng(config.seed);
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, this.nextMaskSeed());
  }

  /** The seed of the next mask; the graph training path draws its masks from it too. */
  nextMaskSeed(): number {
    // tfjs treats seed 0 as "unseeded", so mask seeds start at 1.
    return 1 + this.rng.int(2 ** 31 - 1);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

function dropout(rate: number, seed: number, name: string): SeededDropout {
  return new SeededDropout({ rate, seed, name });
}

export interface ModelOptions {
  /** Filters of the three Conv2D layers. Seed: [32, 64, 128]. */
  convFilters?: number[];
  /** Units of the hidden Dense layer. Seed: 128. */
  denseUnits?: number;
  /** Dropout before the output layer. Seed: 0.3. */
  dropoutRate?: number;
  /** Base seed for the initialisers and dropout; layer i uses seed + i. Default 42. */
  seed?: number;
}

const INPUT_SHAPE = [28, 28, 1];

/** Keras' Conv2D/Dense defaults made explicit, each layer with its own seed. */
function kerasInit(seed: number, index: number) {
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + index }),
    biasInitializer: tf.initializers.zeros(),
  };
}

/**
 * The seed's model ("case 1"): Conv2D 32 → MaxPool → Conv2D 64 → MaxPool → Conv2D 128 → Flatten →
 * Dense 128 relu → Dropout 0.3 → Dense 10 softmax; 241,546 parameters with the defaults. The
 * Conv2D layers have no activation, exactly as in the seed.
 */
export function buildSeedModel(options: ModelOptions = {}): tf.Sequential {
  const [f1, f2, f3] = options.convFilters ?? [32, 64, 128];
  const seed = options.seed ?? 42;
  return tf.sequential({
    name: 'seed_convnet',
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, kernelSize: 3, filters: f1, ...kerasInit(seed, 0), name: 'conv2d' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max_pooling2d' }),
      tf.layers.conv2d({ kernelSize: 3, filters: f2, ...kerasInit(seed, 1), name: 'conv2d_1' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max_pooling2d_1' }),
      tf.layers.conv2d({ kernelSize: 3, filters: f3, ...kerasInit(seed, 2), name: 'conv2d_2' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: options.denseUnits ?? 128, activation: 'relu', ...kerasInit(seed, 3), name: 'dense' }),
      dropout(options.dropoutRate ?? 0.3, seed + 4, 'dropout'),
      tf.layers.dense({ units: 10, activation: 'softmax', ...kerasInit(seed, 5), name: 'dense_1' }),
    ],
  });
}

/**
 * The seed's "case 2": Conv2D and Dense layers only, no pooling and no dropout, as the book's
 * notebook defines it (Conv2D 16, 32, 64 → Flatten → Dense 128 relu → Dense 10 softmax);
 * 3,989,642 parameters.
 */
export function buildCase2Model(options: Pick<ModelOptions, 'seed'> = {}): tf.Sequential {
  const seed = options.seed ?? 42;
  return tf.sequential({
    name: 'case2_conv_dense',
    layers: [
      tf.layers.conv2d({ inputShape: INPUT_SHAPE, kernelSize: 3, filters: 16, ...kerasInit(seed, 0), name: 'conv2d' }),
      tf.layers.conv2d({ kernelSize: 3, filters: 32, ...kerasInit(seed, 1), name: 'conv2d_1' }),
      tf.layers.conv2d({ kernelSize: 3, filters: 64, ...kerasInit(seed, 2), name: 'conv2d_2' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 128, activation: 'relu', ...kerasInit(seed, 3), name: 'dense' }),
      tf.layers.dense({ units: 10, activation: 'softmax', ...kerasInit(seed, 4), name: 'dense_1' }),
    ],
  });
}

/**
 * "VGG-7" as the book's notebook builds it: two conv layers then a pool, twice, then three dense
 * layers, with dropout 0.5 throughout; 5,240,842 parameters.
 */
export function buildVgg7Model(options: Pick<ModelOptions, 'seed'> = {}): tf.Sequential {
  const seed = options.seed ?? 42;
  const conv = (filters: number, padding: 'same' | 'valid', i: number, first = false) =>
    tf.layers.conv2d({
      ...(first ? { inputShape: INPUT_SHAPE } : {}),
      kernelSize: 3, filters, padding, activation: 'relu', ...kerasInit(seed, i), name: i ? `conv2d_${i}` : 'conv2d',
    });
  const drop = (i: number) => dropout(0.5, seed + 10 + i, i ? `dropout_${i}` : 'dropout');
  return tf.sequential({
    name: 'vgg7',
    layers: [
      conv(32, 'same', 0, true),
      conv(64, 'same', 1),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max_pooling2d' }),
      drop(0),
      conv(128, 'same', 2),
      conv(256, 'valid', 3),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max_pooling2d_1' }),
      drop(1),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 512, activation: 'relu', ...kerasInit(seed, 4), name: 'dense' }),
      drop(2),
      tf.layers.dense({ units: 256, activation: 'relu', ...kerasInit(seed, 5), name: 'dense_1' }),
      drop(3),
      tf.layers.dense({ units: 10, activation: 'softmax', ...kerasInit(seed, 6), name: 'dense_2' }),
    ],
  });
}

export interface SummaryRow {
  layer: string;
  type: string;
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  name: string;
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
}

/** Keras prints shapes as (None, 26, 26, 32); the batch size is not fixed. */
function formatShape(shape: tf.Shape | tf.Shape[]): string {
  const one = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
  return `(${one.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

/** The data of Keras' `model.summary()`: one row per layer with its output shape and parameters. */
export function modelSummary(model: tf.LayersModel): ModelSummary {
  const rows = model.layers.map((layer) => ({
    layer: layer.name,
    // Shown as Keras names it: the seeded dropout is Keras' Dropout.
    type: layer instanceof SeededDropout ? 'Dropout' : layer.getClassName(),
    outputShape: formatShape(layer.outputShape),
    params: layer.countParams(),
  }));
  const trainableParams = model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  return { name: model.name, rows, totalParams: model.countParams(), trainableParams };
}

/** The summary as Keras' text table, for terminals and plain-text outputs. */
export function formatSummary(summary: ModelSummary): string {
  const header = ['Layer (type)', 'Output Shape', 'Param #'];
  const body = summary.rows.map((r) => [`${r.layer} (${r.type})`, r.outputShape, r.params.toLocaleString('en-US')]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)) + 2);
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0));
  return [
    `Model: "${summary.name}"`,
    rule('_'),
    line(header),
    rule('='),
    ...body.map(line),
    rule('='),
    `Total params: ${summary.totalParams.toLocaleString('en-US')}`,
    `Trainable params: ${summary.trainableParams.toLocaleString('en-US')}`,
    `Non-trainable params: ${(summary.totalParams - summary.trainableParams).toLocaleString('en-US')}`,
  ].join('\n');
}
