/**
 * The graph engine's rulebook: for every layer type, activation and loss it can train, one entry
 * that says how to read it from the model, its output shape, its forward ops and its gradient ops,
 * side by side. The optimizers' rules are in optimizers.ts. What has no entry here trains on the
 * eager engine, and the entry's absence is the reason fit reports ("engine: eager —
 * LeakyReLU has no graph rule yet").
 *
 * Gradients use TensorFlow's own gradient kernels (ReluGrad, Conv2DBackpropInput, MaxPoolGrad, …),
 * the ones Keras' compiled train step runs, so the graph computes what tfjs' eager autodiff does.
 */
import { tf } from '../core/backend';
import { sparseSoftmaxCrossEntropyWithLogits as sparseSoftmaxCrossEntropy } from '../core/native';
import { DT_BOOL, DT_FLOAT, DT_INT32, GraphBuilder } from './graph-builder';

/** What a rule needs from the graph being written. */
export interface GraphContext {
  readonly g: GraphBuilder;
  /** The graph input that holds weight v. */
  weight(v: tf.Variable): string;
  /** Adds `grad` to weight v's gradient; frozen weights (trainable = false) ignore it. */
  gradient(v: tf.Variable, grad: string): void;
  /** The dropout mask input for the current layer (the training pass only). */
  mask(rate: number, shape: number[], nextSeed: () => number | undefined): string;
  /** A new value for a weight that is not trained but updated by the step (BatchNormalization's moving statistics). */
  update(v: tf.Variable, value: string): void;
}

/** A layer's forward pass as written: its input, output and what its gradient reuses. */
export interface Forward {
  x: string;
  y: string;
  /** Before the activation. */
  z?: string;
  /** The dropout mask this pass applied, which its gradient applies again. */
  mask?: string;
}

/** One layer of a model, read by its rule: shape, weights, forward and gradient together. */
export interface LayerPlan {
  /** The output shape, batch left out. */
  readonly output: number[];
  /** Every weight it reads, trained or frozen. */
  readonly weights: tf.Variable[];
  /**
   * Set when its training pass depends on the whole batch (BatchNormalization's batch
   * statistics), so the batch cannot be split into halves computed side by side.
   */
  readonly wholeBatch?: boolean;
  /** L2 penalties of its kernel regulariser: Keras adds l2 · Σw² to the loss. */
  readonly l2: Array<[tf.Variable, number]>;
  forward(ctx: GraphContext, x: string, training: boolean): Forward;
  /** The gradient with respect to the input (undefined when not needed), adding the weights' gradients. */
  backward(ctx: GraphContext, dy: string, f: Forward, needInput: boolean): string | undefined;
}

/**
 * A layer type's rule: reads a layer given its input shape, or says why the graph cannot take it.
 * `logits` is set for the model's last layer, whose softmax the loss rule applies.
 */
export type LayerRule = (layer: tf.layers.Layer, input: number[], logits?: boolean) => LayerPlan | string;

/** An activation's forward op and its gradient, from the output (and the pre-activation). */
interface ActivationRule {
  forward(g: GraphBuilder, z: string): string;
  backward(g: GraphBuilder, dy: string, y: string): string;
}

const ACTIVATIONS: Readonly<Record<string, ActivationRule>> = {
  linear: { forward: (_, z) => z, backward: (_, dy) => dy },
  relu: { forward: (g, z) => g.f('Relu', [z]), backward: (g, dy, y) => g.f('ReluGrad', [dy, y]) },
  tanh: { forward: (g, z) => g.f('Tanh', [z]), backward: (g, dy, y) => g.f('TanhGrad', [y, dy]) },
  sigmoid: { forward: (g, z) => g.f('Sigmoid', [z]), backward: (g, dy, y) => g.f('SigmoidGrad', [y, dy]) },
  elu: { forward: (g, z) => g.f('Elu', [z]), backward: (g, dy, y) => g.f('EluGrad', [dy, y]) },
  selu: { forward: (g, z) => g.f('Selu', [z]), backward: (g, dy, y) => g.f('SeluGrad', [dy, y]) },
};

function pair(v: unknown, fallback: number): number[] {
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

const spatial = (size: number, window: number, stride: number, padding: string) =>
  padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;

/** The L2 factor of a kernel regulariser, or why it has no rule. */
function kernelL2(layer: tf.layers.Layer, c: tf.serialization.ConfigDict): number | string {
  if (c.biasRegularizer != null || c.activityRegularizer != null) return `${layer.name}: only kernel regularisers have a graph rule yet`;
  const reg = c.kernelRegularizer as { className?: string; config?: { l1?: number; l2?: number } } | null | undefined;
  if (reg == null) return 0;
  if (reg.className !== 'L1L2' || (reg.config?.l1 ?? 0) !== 0) return `${layer.name}: only L2 kernel regularisers have a graph rule yet`;
  return reg.config?.l2 ?? 0;
}

/**
 * Conv2D and Dense share their tail: bias, activation, L2 penalty. `linear` computes z from x;
 * `linearBackward` gives the kernel's gradient and, when asked, the input's.
 */
function weighted(
  layer: tf.layers.Layer,
  logits: boolean | undefined,
  output: number[],
  linear: (ctx: GraphContext, x: string, kernel: string) => string,
  linearBackward: (ctx: GraphContext, dz: string, x: string, kernel: string, needInput: boolean) => { dKernel: string; dx?: string },
): LayerPlan | string {
  const c = layer.getConfig();
  const activation = ACTIVATIONS[logits ? 'linear' : String(c.activation)];
  if (!activation) return `${layer.getClassName()} activation ${String(c.activation)} has no graph rule yet`;
  const l2 = kernelL2(layer, c);
  if (typeof l2 === 'string') return l2;
  const [kernel, bias] = layer.weights.map((w) => w.read() as tf.Variable);
  const hasBias = Boolean(c.useBias) && bias !== undefined;
  const biasAttrs = (g: GraphBuilder) => ({ ...g.T, data_format: g.attrString('NHWC') });
  return {
    output,
    weights: hasBias ? [kernel, bias] : [kernel],
    l2: l2 > 0 ? [[kernel, l2]] : [],
    forward(ctx, x) {
      let z = linear(ctx, x, ctx.weight(kernel));
      if (hasBias) z = ctx.g.op('BiasAdd', [z, ctx.weight(bias)], biasAttrs(ctx.g));
      return { x, z, y: activation.forward(ctx.g, z) };
    },
    backward(ctx, dy, f, needInput) {
      const dz = activation.backward(ctx.g, dy, f.y);
      if (hasBias) ctx.gradient(bias, ctx.g.op('BiasAddGrad', [dz], biasAttrs(ctx.g)));
      const { dKernel, dx } = linearBackward(ctx, dz, f.x, ctx.weight(kernel), needInput);
      ctx.gradient(kernel, dKernel);
      return dx;
    },
  };
}

function conv2d(layer: tf.layers.Layer, input: number[], logits?: boolean): LayerPlan | string {
  const c = layer.getConfig();
  if (c.dataFormat !== 'channelsLast') return 'Conv2D with channelsFirst has no graph rule yet';
  if (pair(c.dilationRate, 1).some((d) => d !== 1)) return 'dilated Conv2D has no graph rule yet';
  const [kh, kw] = pair(c.kernelSize, 1);
  const strides = pair(c.strides, 1);
  const padding = String(c.padding);
  if (padding !== 'same' && padding !== 'valid') return `Conv2D padding ${padding} has no graph rule yet`;
  const output = [spatial(input[0], kh, strides[0], padding), spatial(input[1], kw, strides[1], padding), Number(c.filters)];
  const attrs = (g: GraphBuilder) => ({
    ...g.T, strides: g.attrInts([1, strides[0], strides[1], 1]), padding: g.attrString(padding.toUpperCase()),
    data_format: g.attrString('NHWC'), dilations: g.attrInts([1, 1, 1, 1]), use_cudnn_on_gpu: g.attrBool(true),
  });
  return weighted(
    layer, logits, output,
    (ctx, x, k) => ctx.g.op('Conv2D', [x, k], attrs(ctx.g)),
    (ctx, dz, x, k, needInput) => ({
      dKernel: ctx.g.op('Conv2DBackpropFilter', [x, ctx.g.shapeOf(k), dz], attrs(ctx.g)),
      dx: needInput ? ctx.g.op('Conv2DBackpropInput', [ctx.g.shapeOf(x), k, dz], attrs(ctx.g)) : undefined,
    }),
  );
}

function dense(layer: tf.layers.Layer, input: number[], logits?: boolean): LayerPlan | string {
  if (input.length !== 1) return 'Dense on a tensor of rank above 2 has no graph rule yet';
  const matmul = (g: GraphBuilder, a: string, b: string, ta: boolean, tb: boolean) =>
    g.op('MatMul', [a, b], { ...g.T, transpose_a: g.attrBool(ta), transpose_b: g.attrBool(tb) });
  return weighted(
    layer, logits, [Number(layer.getConfig().units)],
    (ctx, x, k) => matmul(ctx.g, x, k, false, false),
    (ctx, dz, x, k, needInput) => ({
      dKernel: matmul(ctx.g, x, dz, true, false),
      dx: needInput ? matmul(ctx.g, dz, k, false, true) : undefined,
    }),
  );
}

/** MaxPooling2D and AveragePooling2D: a window op and its gradient op. */
function pooling(kind: 'max' | 'avg') {
  return (layer: tf.layers.Layer, input: number[]): LayerPlan | string => {
    const c = layer.getConfig();
    if (c.dataFormat !== 'channelsLast') return `${layer.getClassName()} with channelsFirst has no graph rule yet`;
    const size = pair(c.poolSize, 2);
    const strides = c.strides == null ? size : pair(c.strides, 2);
    const padding = String(c.padding);
    const attrs = (g: GraphBuilder) => ({
      ...g.T, ksize: g.attrInts([1, size[0], size[1], 1]), strides: g.attrInts([1, strides[0], strides[1], 1]),
      padding: g.attrString(padding.toUpperCase()), data_format: g.attrString('NHWC'),
    });
    return {
      output: [spatial(input[0], size[0], strides[0], padding), spatial(input[1], size[1], strides[1], padding), input[2]],
      weights: [],
      l2: [],
      forward: (ctx, x) => ({ x, y: ctx.g.op(kind === 'max' ? 'MaxPool' : 'AvgPool', [x], attrs(ctx.g)) }),
      backward: (ctx, dy, f) =>
        kind === 'max'
          ? ctx.g.op('MaxPoolGrad', [f.x, f.y, dy], attrs(ctx.g))
          : ctx.g.op('AvgPoolGrad', [ctx.g.shapeOf(f.x), dy], attrs(ctx.g)),
    };
  };
}

function globalAveragePooling2d(layer: tf.layers.Layer, input: number[]): LayerPlan | string {
  if (layer.getConfig().dataFormat !== 'channelsLast') return 'GlobalAveragePooling2D with channelsFirst has no graph rule yet';
  const [h, w, channels] = input;
  const axes = (g: GraphBuilder) => g.constant(DT_INT32, [1, 2], [2]);
  return {
    output: [channels],
    weights: [],
    l2: [],
    forward: (ctx, x) => ({ x, y: ctx.g.op('Mean', [x, axes(ctx.g)], { ...ctx.g.T, Tidx: ctx.g.attrType(DT_INT32), keep_dims: ctx.g.attrBool(false) }) }),
    backward(ctx, dy, f) {
      // Each of the h·w positions receives an equal share of its channel's gradient.
      const { g } = ctx;
      const perChannel = g.op('Reshape', [dy, g.constant(DT_INT32, [-1, 1, 1, channels], [4])], { ...g.T, Tshape: g.attrType(DT_INT32) });
      const spread = g.op('BroadcastTo', [perChannel, g.shapeOf(f.x)], { ...g.T, Tidx: g.attrType(DT_INT32) });
      return g.f('RealDiv', [spread, g.scalar(h * w)]);
    },
  };
}

function flatten(_layer: tf.layers.Layer, input: number[]): LayerPlan {
  const size = input.reduce((a, b) => a * b, 1);
  return {
    output: [size],
    weights: [],
    l2: [],
    forward: (ctx, x) => ({ x, y: ctx.g.op('Reshape', [x, ctx.g.constant(DT_INT32, [-1, size], [2])], { ...ctx.g.T, Tshape: ctx.g.attrType(DT_INT32) }) }),
    backward: (ctx, dy, f) => ctx.g.op('Reshape', [dy, ctx.g.shapeOf(f.x)], { ...ctx.g.T, Tshape: ctx.g.attrType(DT_INT32) }),
  };
}

function dropout(layer: tf.layers.Layer, input: number[]): LayerPlan | string {
  const c = layer.getConfig();
  if (c.noiseShape != null) return 'Dropout with a noiseShape has no graph rule yet';
  const rate = Number(c.rate);
  // The seeded dropout's own stream, so both engines draw the same masks (model/dropout.ts).
  const seeded = layer as unknown as { nextMaskSeed?: () => number };
  const nextSeed = () => seeded.nextMaskSeed?.();
  return {
    output: input,
    weights: [],
    l2: [],
    forward(ctx, x, training) {
      if (!training) return { x, y: x };
      const mask = ctx.mask(rate, input, nextSeed);
      return { x, y: ctx.g.f('Mul', [x, mask]), mask };
    },
    backward: (ctx, dy, f) => ctx.g.f('Mul', [dy, f.mask!]),
  };
}

/**
 * BatchNormalization over the last axis, as tfjs-layers computes it: in training, the batch's
 * mean and (biased) variance normalise, and the moving statistics move towards them by
 * (1 − momentum); in evaluation the moving statistics normalise. TensorFlow's fused kernels do
 * both passes; a rank-2 input goes through them as (N, 1, 1, C).
 */
function batchNormalization(layer: tf.layers.Layer, input: number[]): LayerPlan | string {
  const c = layer.getConfig();
  const axis = Number(c.axis ?? -1);
  if (axis !== -1 && axis !== input.length) return 'BatchNormalization over an axis other than the last has no graph rule yet';
  if (c.center === false || c.scale === false) return 'BatchNormalization without center or scale has no graph rule yet';
  if (c.betaRegularizer != null || c.gammaRegularizer != null) return 'BatchNormalization with regularisers has no graph rule yet';
  const [gamma, beta, movingMean, movingVariance] = layer.weights.map((w) => w.read() as tf.Variable);
  const epsilon = Number(c.epsilon);
  const momentum = Number(c.momentum);
  const channels = input[input.length - 1];
  const I = (g: GraphBuilder) => g.attrType(DT_INT32);
  const attrs = (g: GraphBuilder, training: boolean) => ({
    ...g.T, U: g.attrType(DT_FLOAT), epsilon: g.attrFloat(epsilon), data_format: g.attrString('NHWC'), is_training: g.attrBool(training),
  });
  const to4d = (g: GraphBuilder, t: string) =>
    input.length === 3 ? t : g.op('Reshape', [t, g.constant(DT_INT32, [-1, 1, 1, channels], [4])], { ...g.T, Tshape: I(g) });
  const back = (g: GraphBuilder, t: string, like: string) =>
    input.length === 3 ? t : g.op('Reshape', [t, g.shapeOf(like)], { ...g.T, Tshape: I(g) });
  if (input.length !== 3 && input.length !== 1) return 'BatchNormalization of this rank has no graph rule yet';
  let fused = '';
  return {
    output: input,
    weights: [gamma, beta, movingMean, movingVariance],
    l2: [],
    wholeBatch: true,
    forward(ctx, x, training) {
      const { g } = ctx;
      const x4 = to4d(g, x);
      if (!training) {
        const y = g.op('FusedBatchNormV3', [x4, ctx.weight(gamma), ctx.weight(beta), ctx.weight(movingMean), ctx.weight(movingVariance)], {
          ...attrs(g, false), exponential_avg_factor: g.attrFloat(1),
        });
        return { x, y: back(g, `${y}:0`, x) };
      }
      const empty = g.constant(DT_FLOAT, [], [0]);
      fused = g.op('FusedBatchNormV3', [x4, ctx.weight(gamma), ctx.weight(beta), empty, empty], { ...attrs(g, true), exponential_avg_factor: g.attrFloat(1) });
      // The kernel's batch variance is Bessel-corrected; tfjs moves its statistics towards the biased one.
      const count = g.f('RealDiv', [g.op('Cast', [g.op('Size', [x4], { ...g.T, out_type: I(g) })], { SrcT: I(g), DstT: g.attrType(DT_FLOAT) }), g.scalar(channels)]);
      const biased = g.f('Mul', [`${fused}:2`, g.f('RealDiv', [g.f('Sub', [count, g.scalar(1)]), count])]);
      const towards = (v: tf.Variable, value: string) =>
        ctx.update(v, g.f('Sub', [ctx.weight(v), g.f('Mul', [g.f('Sub', [ctx.weight(v), value]), g.scalar(1 - momentum)])]));
      towards(movingMean, `${fused}:1`);
      towards(movingVariance, biased);
      return { x, y: back(g, `${fused}:0`, x) };
    },
    backward(ctx, dy, f) {
      const { g } = ctx;
      const grad = g.op('FusedBatchNormGradV3', [to4d(g, dy), to4d(g, f.x), ctx.weight(gamma), `${fused}:3`, `${fused}:4`, `${fused}:5`], attrs(g, true));
      ctx.gradient(gamma, `${grad}:1`);
      ctx.gradient(beta, `${grad}:2`);
      return back(g, `${grad}:0`, f.x);
    },
  };
}

/** The rules by tfjs class name; a class missing here trains on the eager engine. */
export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  Conv2D: conv2d,
  Dense: dense,
  MaxPooling2D: pooling('max'),
  AveragePooling2D: pooling('avg'),
  GlobalAveragePooling2D: globalAveragePooling2d,
  Flatten: flatten,
  Dropout: dropout,
  SeededDropout: dropout,
  BatchNormalization: batchNormalization,
};

/** A loss as both engines compute it: from the logits of a final Dense + softmax. */
export interface LossRule {
  /** Keras' name, e.g. sparse_categorical_crossentropy. */
  readonly kerasName: string;
  /** How fit takes the labels: class ids (N,) int32, or one-hot rows (N, classes) float32. */
  readonly labels: 'sparse' | 'onehot';
  /** Graph: the per-example loss and d(loss)/d(logits) per example (softmax − one-hot). */
  graph(g: GraphBuilder, logits: string, y: string): { perExample: string; dLogits: string };
  /** Graph: the int32 count of right answers. */
  graphCorrect(g: GraphBuilder, logits: string, y: string): string;
  /** Eager: the mean loss from logits. */
  fromLogits(logits: tf.Tensor2D, y: tf.Tensor): tf.Scalar;
  /** Eager: the mean loss from softmax outputs, clipped as Keras clips them. */
  fromProbs(probs: tf.Tensor2D, y: tf.Tensor): tf.Scalar;
  /** Eager: the int32 count of right answers (argmax against the label). */
  correct(scores: tf.Tensor2D, y: tf.Tensor): tf.Scalar;
}

const EPSILON = 1e-7;

function graphArgMax(g: GraphBuilder, t: string): string {
  const I = g.attrType(DT_INT32);
  return g.op('ArgMax', [t, g.constant(DT_INT32, [1])], { ...g.T, Tidx: I, output_type: I });
}

function graphCount(g: GraphBuilder, a: string, b: string): string {
  const I = g.attrType(DT_INT32);
  const eq = g.op('Cast', [g.op('Equal', [a, b], { T: I })], { SrcT: g.attrType(DT_BOOL), DstT: I });
  return g.op('Sum', [eq, g.constant(DT_INT32, [0], [1])], { T: I, Tidx: I, keep_dims: g.attrBool(false) });
}

function eagerCount(predicted: tf.Tensor, truth: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(predicted, truth), 'int32')) as tf.Scalar);
}

export const LOSS_RULES: Readonly<Record<string, LossRule>> = {
  sparseCategoricalCrossentropy: {
    kerasName: 'sparse_categorical_crossentropy',
    labels: 'sparse',
    graph(g, logits, y) {
      const ce = g.op('SparseSoftmaxCrossEntropyWithLogits', [logits, y], { ...g.T, Tlabels: g.attrType(DT_INT32) });
      return { perExample: `${ce}:0`, dLogits: `${ce}:1` };
    },
    graphCorrect: (g, logits, y) => graphCount(g, graphArgMax(g, logits), y),
    fromLogits: (logits, y) => sparseSoftmaxCrossEntropy(logits, y as tf.Tensor1D),
    fromProbs: (probs, y) =>
      tf.tidy(() => {
        const picked = tf.sum(tf.mul(probs, tf.oneHot(y as tf.Tensor1D, probs.shape[1])), 1);
        return tf.neg(tf.mean(tf.log(tf.clipByValue(picked, EPSILON, 1 - EPSILON)))) as tf.Scalar;
      }),
    correct: (scores, y) => tf.tidy(() => eagerCount(tf.argMax(scores, 1), y)),
  },
  categoricalCrossentropy: {
    kerasName: 'categorical_crossentropy',
    labels: 'onehot',
    graph(g, logits, y) {
      const ce = g.op('SoftmaxCrossEntropyWithLogits', [logits, y], g.T);
      return { perExample: `${ce}:0`, dLogits: `${ce}:1` };
    },
    graphCorrect: (g, logits, y) => graphCount(g, graphArgMax(g, logits), graphArgMax(g, y)),
    fromLogits: (logits, y) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar,
    fromProbs: (probs, y) =>
      tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(probs, EPSILON, 1 - EPSILON))), 1))) as tf.Scalar),
    correct: (scores, y) => tf.tidy(() => eagerCount(tf.argMax(scores, 1), tf.argMax(y, 1))),
  },
};

/** The loss a model was compiled with, by tfjs' camelCase or Keras' snake_case name. */
export function lossRule(loss: unknown): { name: string; rule: LossRule } | { reason: string } {
  const given = Array.isArray(loss) && loss.length === 1 ? loss[0] : loss;
  if (typeof given !== 'string') return { reason: 'a loss function given as code cannot be trained here; give its name' };
  const name = given.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const rule = LOSS_RULES[name];
  return rule ? { name, rule } : { reason: `loss '${given}' cannot be trained here (losses: ${Object.keys(LOSS_RULES).join(', ')})` };
}
