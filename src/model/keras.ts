/**
 * Keras' layer names and defaults on top of tfjs-layers, so that a notebook cell can write a model
 * the way the seed's Python does (`keras.layers.Conv2D(filters=32, kernel_size=(3, 3))`) and get
 * what Keras would build. Where the two libraries differ the Keras value is used:
 * - Conv2D and Dense kernels start from `glorot_uniform` (tfjs-layers' default is glorotNormal,
 *   tfjs-layers/src/layers/convolutional.ts and core.ts, DEFAULT_KERNEL_INITIALIZER), biases from
 *   zeros;
 * - Dropout draws a new mask at every step from a seeded stream (SeededDropout), as Keras' seed
 *   generator does, where tfjs' seeded Dropout repeats one mask;
 * - layers are named per type as Keras names them: conv2d, conv2d_1, …, dense, dense_1, …
 *
 * Each factory holds one seed. The weighted layers (Conv2D, Dense) take seed + 0, + 1, … in the
 * order they are made; the dropout masks take their own run of seeds, seed + 10, + 11, …, so that
 * adding a Dropout leaves every weight's starting value as it was. Introduced in notebook 01,
 * step ⑥.
 */
import { tf } from '../core/backend';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { SeededDropout } from './dropout';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type PoolArgs = Parameters<typeof tf.layers.maxPooling2d>[0];
type FlattenArgs = NonNullable<Parameters<typeof tf.layers.flatten>[0]>;
type GlobalPoolArgs = NonNullable<Parameters<typeof tf.layers.globalAveragePooling2d>[0]>;
type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

/** The kernel initialisers a learner of this chapter may pick, by Keras' names in tfjs spelling. */
export type KernelInitializerName = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal';

export interface KerasLayerOptions {
  /** Base seed of the weights (seed + i) and of the dropout masks (seed + 10 + i). Default: DEFAULT_HYPERPARAMETERS.seed. */
  seed?: number;
  /** Conv2D and Dense kernels. Keras' default: 'glorotUniform'. */
  kernelInitializer?: KernelInitializerName;
  /** Conv2D and Dense biases. Keras' default: 'zeros'. */
  biasInitializer?: 'zeros' | 'ones';
}

/** The first dropout mask seed, apart from the weights' seeds. */
const DROPOUT_SEED_OFFSET = 10;

/** Layer factories named as in `keras.layers`, with Keras' defaults; see the file comment. */
export interface KerasLayers {
  Conv2D(args: Conv2DArgs): tf.layers.Layer;
  Dense(args: DenseArgs): tf.layers.Layer;
  MaxPool2D(args?: PoolArgs): tf.layers.Layer;
  AveragePooling2D(args?: PoolArgs): tf.layers.Layer;
  GlobalAveragePooling2D(args?: GlobalPoolArgs): tf.layers.Layer;
  Flatten(args?: FlattenArgs): tf.layers.Layer;
  Dropout(args: { rate: number; name?: string }): tf.layers.Layer;
  BatchNormalization(args?: BatchNormArgs): tf.layers.Layer;
}

const INITIALIZERS: Record<KernelInitializerName, (args: { seed: number }) => ReturnType<typeof tf.initializers.glorotUniform>> = {
  glorotUniform: (a) => tf.initializers.glorotUniform(a),
  glorotNormal: (a) => tf.initializers.glorotNormal(a),
  heUniform: (a) => tf.initializers.heUniform(a),
  heNormal: (a) => tf.initializers.heNormal(a),
  lecunUniform: (a) => tf.initializers.leCunUniform(a),
  lecunNormal: (a) => tf.initializers.leCunNormal(a),
};

/**
 * A set of Keras layer factories sharing one seed: `const layers = kerasLayers({ seed: 42 })`, then
 * `layers.Conv2D({ filters: 32, kernelSize: 3, inputShape: [28, 28, 1] })`. Use one set per model:
 * the seeds and the names count up across its calls.
 */
export function kerasLayers(options: KerasLayerOptions = {}): KerasLayers {
  const seed = options.seed ?? DEFAULT_HYPERPARAMETERS.seed;
  const kernel = INITIALIZERS[options.kernelInitializer ?? 'glorotUniform'];
  if (!kernel) throw new Error(`kerasLayers: kernelInitializer must be one of ${Object.keys(INITIALIZERS).join(', ')}, got ${options.kernelInitializer}`);
  const bias = options.biasInitializer === 'ones' ? tf.initializers.ones : tf.initializers.zeros;
  let weighted = 0;
  let dropouts = 0;
  const counts = new Map<string, number>();
  /** Keras' automatic names: the first of a kind is plain, later ones get _1, _2, … */
  const nameFor = (kind: string, given?: string) => {
    if (given) return given;
    const n = counts.get(kind) ?? 0;
    counts.set(kind, n + 1);
    return n === 0 ? kind : `${kind}_${n}`;
  };
  const initialisers = () => ({ kernelInitializer: kernel({ seed: seed + weighted++ }), biasInitializer: bias() });
  return {
    Conv2D: (args) => tf.layers.conv2d({ ...initialisers(), ...args, name: nameFor('conv2d', args.name) }),
    Dense: (args) => tf.layers.dense({ ...initialisers(), ...args, name: nameFor('dense', args.name) }),
    MaxPool2D: (args = {}) => tf.layers.maxPooling2d({ poolSize: 2, ...args, name: nameFor('max_pooling2d', args.name) }),
    AveragePooling2D: (args = {}) => tf.layers.averagePooling2d({ poolSize: 2, ...args, name: nameFor('average_pooling2d', args.name) }),
    GlobalAveragePooling2D: (args = {}) =>
      tf.layers.globalAveragePooling2d({ ...args, name: nameFor('global_average_pooling2d', args.name) }),
    Flatten: (args = {}) => tf.layers.flatten({ ...args, name: nameFor('flatten', args.name) }),
    Dropout: (args) =>
      new SeededDropout({ rate: args.rate, seed: seed + DROPOUT_SEED_OFFSET + dropouts++, name: nameFor('dropout', args.name) }),
    BatchNormalization: (args = {}) =>
      // Keras' momentum 0.99 and epsilon 0.001 are tfjs' defaults too; stated so they stay Keras' own.
      tf.layers.batchNormalization({ momentum: 0.99, epsilon: 0.001, ...args, name: nameFor('batch_normalization', args.name) }),
  };
}
