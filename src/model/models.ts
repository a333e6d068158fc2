/**
 * The tutorial's architectures, for the commands and the tests: the same layer lists that the
 * notebooks write out in their cells (notebook 01, step ⑥; notebook 02, case 2 and VGG-7), made
 * with the Keras layer factories of keras.ts so that a notebook's model and the command's are the
 * same model, down to the initialisers' seeds and the layer names. Nothing is built at import time.
 */
import { tf } from '../core/backend';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { INPUT_SHAPE } from '../core/image';
import { SeededDropout } from './dropout';
import { kerasLayers } from './keras';

export interface ModelOptions {
  /** Filters of the three Conv2D layers. Default: DEFAULT_HYPERPARAMETERS.convFilters (the seed's 32, 64, 128). */
  convFilters?: number[];
  /** Units of the hidden Dense layer. Default: DEFAULT_HYPERPARAMETERS.denseUnits (128). */
  denseUnits?: number;
  /** Dropout before the output layer. Default: DEFAULT_HYPERPARAMETERS.dropoutRate (0.3). */
  dropoutRate?: number;
  /** Base seed of the initialisers and dropout masks (see keras.ts). Default: DEFAULT_HYPERPARAMETERS.seed. */
  seed?: number;
}

/**
 * The seed's model ("case 1"): Conv2D 32 → MaxPool → Conv2D 64 → MaxPool → Conv2D 128 → Flatten →
 * Dense 128 relu → Dropout 0.3 → Dense 10 softmax; 241,546 parameters with the defaults. The
 * Conv2D layers have no activation, exactly as in the seed.
 */
export function buildSeedModel(options: ModelOptions = {}): tf.Sequential {
  const d = DEFAULT_HYPERPARAMETERS;
  const [f1, f2, f3] = options.convFilters ?? d.convFilters;
  const layers = kerasLayers({ seed: options.seed ?? d.seed });
  return tf.sequential({
    name: 'seed_convnet',
    layers: [
      layers.Conv2D({ inputShape: [...INPUT_SHAPE], kernelSize: 3, filters: f1 }),
      layers.MaxPool2D({ poolSize: 2, strides: 2 }),
      layers.Conv2D({ kernelSize: 3, filters: f2 }),
      layers.MaxPool2D({ poolSize: 2, strides: 2 }),
      layers.Conv2D({ kernelSize: 3, filters: f3 }),
      layers.Flatten(),
      layers.Dense({ units: options.denseUnits ?? d.denseUnits, activation: 'relu' }),
      layers.Dropout({ rate: options.dropoutRate ?? d.dropoutRate }),
      layers.Dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/**
 * The seed's "case 2": Conv2D and Dense layers only, no pooling and no dropout, as the book's
 * notebook defines it (Conv2D 16, 32, 64 → Flatten → Dense 128 relu → Dense 10 softmax);
 * 3,989,642 parameters.
 */
export function buildCase2Model(options: Pick<ModelOptions, 'seed'> = {}): tf.Sequential {
  const layers = kerasLayers({ seed: options.seed ?? DEFAULT_HYPERPARAMETERS.seed });
  return tf.sequential({
    name: 'case2_conv_dense',
    layers: [
      layers.Conv2D({ inputShape: [...INPUT_SHAPE], kernelSize: 3, filters: 16 }),
      layers.Conv2D({ kernelSize: 3, filters: 32 }),
      layers.Conv2D({ kernelSize: 3, filters: 64 }),
      layers.Flatten(),
      layers.Dense({ units: 128, activation: 'relu' }),
      layers.Dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/**
 * "VGG-7" as the book's notebook builds it: two conv layers then a pool, twice, then three dense
 * layers, with dropout 0.5 throughout; 5,240,842 parameters.
 */
export function buildVgg7Model(options: Pick<ModelOptions, 'seed'> = {}): tf.Sequential {
  const layers = kerasLayers({ seed: options.seed ?? DEFAULT_HYPERPARAMETERS.seed });
  return tf.sequential({
    name: 'vgg7',
    layers: [
      layers.Conv2D({ inputShape: [...INPUT_SHAPE], kernelSize: 3, filters: 32, padding: 'same', activation: 'relu' }),
      layers.Conv2D({ kernelSize: 3, filters: 64, padding: 'same', activation: 'relu' }),
      layers.MaxPool2D({ poolSize: 2, strides: 2 }),
      layers.Dropout({ rate: 0.5 }),
      layers.Conv2D({ kernelSize: 3, filters: 128, padding: 'same', activation: 'relu' }),
      layers.Conv2D({ kernelSize: 3, filters: 256, padding: 'valid', activation: 'relu' }),
      layers.MaxPool2D({ poolSize: 2, strides: 2 }),
      layers.Dropout({ rate: 0.5 }),
      layers.Flatten(),
      layers.Dense({ units: 512, activation: 'relu' }),
      layers.Dropout({ rate: 0.5 }),
      layers.Dense({ units: 256, activation: 'relu' }),
      layers.Dropout({ rate: 0.5 }),
      layers.Dense({ units: 10, activation: 'softmax' }),
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
