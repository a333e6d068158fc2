/**
 * From raw bytes to model-ready tensors, step by step as the seed does it: `toTensors` (what
 * `load_data()` returns), `normalize` (÷ 255) and `reshape` (add the channel axis). Like the seed's
 * `train_X = train_X / 255.0`, `normalize` and `reshape` replace their input: they dispose the
 * tensor they are given, so `trainX = fm.normalize(trainX)` leaks nothing. Introduced in notebook
 * 01, steps 1, 3 and 4.
 */
import { IMAGE_COLS, IMAGE_PIXELS, IMAGE_ROWS } from '../core/image';
import { tf } from '../core/backend';

/** The part of a loaded split that tensors are made from (see data.ts). */
export interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface TensorData {
  /** Training images, (N, 28, 28) float32 with the original 0..255 values. */
  trainX: tf.Tensor3D;
  /** Training labels, (N,) int32 in 0..9. */
  trainY: tf.Tensor1D;
  testX: tf.Tensor3D;
  testY: tf.Tensor1D;
}

export interface TensorOptions {
  /** Use only the first N training images (the hyperparameter trainSamples). Default: all. */
  trainSamples?: number;
  /** Use only the first N test images. Default: all. */
  testSamples?: number;
}

function take(split: RawSplit, limit: number | undefined, what: string): { x: tf.Tensor3D; y: tf.Tensor1D } {
  const n = limit ?? split.count;
  if (!Number.isInteger(n) || n < 1 || n > split.count) {
    throw new RangeError(`${what} must be an integer from 1 to ${split.count}, got ${n}`);
  }
  return {
    x: tf.tensor3d(Float32Array.from(split.images.subarray(0, n * IMAGE_PIXELS)), [n, IMAGE_ROWS, IMAGE_COLS], 'float32'),
    y: tf.tensor1d(Int32Array.from(split.labels.subarray(0, n)), 'int32'),
  };
}

/** The four arrays of Keras' `fashion_mnist.load_data()`, as tensors. */
export function toTensors(data: { train: RawSplit; test: RawSplit }, options: TensorOptions = {}): TensorData {
  const train = take(data.train, options.trainSamples, 'trainSamples');
  const test = take(data.test, options.testSamples, 'testSamples');
  return { trainX: train.x, trainY: train.y, testX: test.x, testY: test.y };
}

/** Pixel values 0..255 → 0..1. Disposes `x`. */
export function normalize<T extends tf.Tensor>(x: T): T {
  const out = tf.tidy(() => tf.div(x, 255) as T);
  x.dispose();
  return out;
}

/** `x.reshape(shape)` that disposes `x`, e.g. reshape(trainX, [-1, 28, 28, 1]). */
export function reshape<R extends tf.Rank = tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  const out = x.reshape(shape) as tf.Tensor<R>;
  x.dispose();
  return out;
}

/** A shape the way NumPy prints it: "(60000, 28, 28, 1)". */
export function shapeOf(x: { shape: readonly number[] }): string {
  return x.shape.length === 1 ? `(${x.shape[0]},)` : `(${x.shape.join(', ')})`;
}

/** Minimum and maximum of a tensor, read back to JavaScript. */
export function valueRange(x: tf.Tensor): { min: number; max: number } {
  const [min, max] = tf.tidy(() => [x.min(), x.max()]).map((t) => {
    const v = t.dataSync()[0];
    t.dispose();
    return v;
  });
  return { min, max };
}

/** The pixels of image i of an (N, 28, 28[, 1]) tensor as a Float32Array, e.g. for showImage. */
export function imageAt(x: tf.Tensor, i: number): Float32Array {
  return tf.tidy(() => x.slice([i], [1]).dataSync() as Float32Array);
}

/** Images i..i+n-1 as one Float32Array (n × 784). */
export function imagesAt(x: tf.Tensor, start: number, n: number): Float32Array {
  return tf.tidy(() => x.slice([start], [n]).dataSync() as Float32Array);
}
