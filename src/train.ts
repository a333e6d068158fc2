/**
 * Training: the equivalent of Keras' `model.fit(x, y, epochs, batch_size, validation_split)` with
 * the same mathematics, written as a lean loop instead of tfjs' `model.fit` (see
 * docs/performance.md for why and by how much). Introduced in notebook 01, step 8.
 *
 * What matches Keras:
 * - validation is the LAST `validationSplit` of the arrays, cut before any shuffling;
 * - the training part is reshuffled every epoch (seeded here, so runs repeat);
 * - loss is sparse categorical cross-entropy; after a softmax layer it is computed from the
 *   logits with TensorFlow's fused kernel, which is what Keras 3 does (it keeps the logits on the
 *   softmax output), otherwise from the probabilities clipped to [1e-7, 1 − 1e-7];
 * - accuracy compares the argmax with the integer label;
 * - epoch loss/acc are the sample-weighted means over the epoch's batches, val_* over the whole
 *   validation part, under the key names the seed's plot reads (loss, acc, val_loss, val_acc).
 */
import type { ImageDataGenerator } from './augment';
import { tf } from './backend';
import { EpochLogs, History, TrainingCallbacks, emptyHistory } from './history';
import { AdamMoments, GraphTrainer, compileGraphTrainer, zeroMoments } from './graph';
import { sparseSoftmaxCrossEntropyWithLogits } from './native';
import { createRng, shuffledIndices } from './random';

export interface FitOptions {
  /** Passes over the training part. Keras' default is 1; the seed uses 15. */
  epochs: number;
  /** Images per gradient step. Keras' default: 32. */
  batchSize?: number;
  /** Fraction held out for validation, from the end. Default 0 (no validation). */
  validationSplit?: number;
  /** Seed for the per-epoch shuffling. Default 42. */
  seed?: number;
  /** Observers: live progress in a notebook, log lines in a script. */
  callbacks?: TrainingCallbacks | TrainingCallbacks[];
  /**
   * Images per forward pass when computing validation metrics. Any value gives the same numbers
   * (no dropout at inference); larger is faster. Default 1000.
   */
  validationBatchSize?: number;
  /**
   * Stop after the current batch on SIGINT (Jupyter's "interrupt kernel") and keep the history so
   * far. Default: true when something else already listens for SIGINT (the tslab kernel does),
   * so a plain script still exits on Ctrl-C.
   */
  stopOnInterrupt?: boolean;
  /**
   * Augmentation on the fly, as Keras' `fit(generator.flow(x, y))`: at the start of every epoch
   * each training image is replaced by a freshly transformed copy drawn from this generator.
   * Validation images are never augmented. Default: none.
   */
  augment?: ImageDataGenerator;
  /**
   * How a step runs. 'graph' (the default, when the model's layers allow it: Conv2D, MaxPooling2D,
   * Flatten, Dense, Dropout, ending in Dense + softmax, with an Adam optimizer): the whole step
   * is one TensorFlow graph, as Keras runs it (see graph.ts). 'eager': op by op through tfjs,
   * which any model and optimizer can use.
   */
  engine?: 'graph' | 'eager';
  /**
   * Eager path only: with a tfjs Adam optimizer, apply Keras' Adam formula to all weights as one flat vector
   * (see FlatAdam below). Default true; false runs tfjs' own per-weight AdamOptimizer, kept for
   * the benchmark's before/after comparison.
   */
  flatAdam?: boolean;
  /**
   * Eager path only: for a model ending in Dense + softmax, compute the loss from the logits with TensorFlow's
   * fused SparseSoftmaxCrossEntropyWithLogits, as Keras does. Default true; false computes it
   * from the softmax output (clipped), kept for the benchmark's before/after comparison.
   */
  fromLogits?: boolean;
}

/** A running (or finished) training, shaped like Keras' History: `run.history.loss` etc. */
export interface TrainingRun {
  /** Per-epoch metrics so far; complete epochs only. */
  readonly history: History;
  /**
   * Resolves when training ends, early stops included; read the result from `history`. It
   * resolves to nothing so that `await run.done` as a notebook cell's last line prints nothing.
   */
  readonly done: Promise<void>;
  /** Ask the loop to stop after the current batch. */
  stop(): void;
  /** True once training ended before its last epoch. */
  readonly stopped: boolean;
}

const EPSILON = 1e-7;

/** Mean sparse categorical cross-entropy of softmax outputs, as Keras computes it. */
export function sparseCategoricalCrossentropy(labels: tf.Tensor1D, probs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(probs, tf.oneHot(labels, probs.shape[1])), 1);
    return tf.neg(tf.mean(tf.log(tf.clipByValue(picked, EPSILON, 1 - EPSILON)))) as tf.Scalar;
  });
}

/** Number of correct predictions (argmax == label) as an int32 scalar. */
function correctCount(labels: tf.Tensor1D, probs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), labels), 'int32')) as tf.Scalar);
}

interface SoftmaxHead {
  body: tf.layers.Layer[];
  kernel: tf.Variable;
  bias: tf.Variable | undefined;
}

/**
 * For a Sequential model whose last layer is Dense with softmax: the layers before it and that
 * layer's weights, so the loss can start from the logits as Keras' does. Otherwise undefined.
 */
function softmaxHead(model: tf.LayersModel): SoftmaxHead | undefined {
  if (!(model instanceof tf.Sequential)) return undefined;
  const last = model.layers[model.layers.length - 1];
  const config = last.getConfig();
  if (last.getClassName() !== 'Dense' || config.activation !== 'softmax') return undefined;
  const [kernel, bias] = last.trainableWeights.map((w) => w.read() as tf.Variable);
  return { body: model.layers.slice(0, -1), kernel, bias: config.useBias === false ? undefined : bias };
}

/** The logits of a softmax-headed model: every layer, then the last Dense without its softmax. */
function forwardLogits(head: SoftmaxHead, x: tf.Tensor, training: boolean): tf.Tensor2D {
  let h = x;
  for (const layer of head.body) h = layer.apply(h, { training }) as tf.Tensor;
  return tf.fused.matMul({ a: h as tf.Tensor2D, b: head.kernel as tf.Tensor2D, bias: head.bias }) as tf.Tensor2D;
}

/** A batch's summed loss and its number of right answers. */
interface BatchSums {
  lossSum: number;
  correct: number;
}

/** Mean loss and accuracy over a whole dataset, measured slice by slice of `batchSize` images. */
function meanOverBatches(x: tf.Tensor, y: tf.Tensor1D, batchSize: number, measure: (xb: tf.Tensor, yb: tf.Tensor1D) => BatchSums): { loss: number; acc: number } {
  const n = x.shape[0];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const xb = x.slice(start, size);
    const yb = y.slice(start, size);
    const sums = measure(xb, yb);
    tf.dispose([xb, yb]);
    lossSum += sums.lossSum;
    correct += sums.correct;
  }
  return { loss: lossSum / n, acc: correct / n };
}

/** Loss and accuracy over a whole dataset in large forward passes (no dropout). */
export function evaluateInBatches(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor1D,
  batchSize = 1000,
): { loss: number; acc: number } {
  const head = softmaxHead(model);
  return meanOverBatches(x, y, batchSize, (xb, yb) => {
    const size = xb.shape[0];
    const [lossT, correctT] = tf.tidy(() => {
      if (head) {
        const logits = forwardLogits(head, xb, false);
        return [tf.mul(sparseSoftmaxCrossEntropyWithLogits(logits, yb), size), correctCount(yb, logits)];
      }
      const probs = model.predict(xb) as tf.Tensor2D;
      return [tf.mul(sparseCategoricalCrossentropy(yb, probs), size), correctCount(yb, probs)];
    });
    const sums = { lossSum: lossT.dataSync()[0], correct: correctT.dataSync()[0] };
    tf.dispose([lossT, correctT]);
    return sums;
  });
}

/**
 * Keras' Adam update, applied to all trainable weights at once as one flat vector:
 *   lr_t = lr · √(1 − β2^t) / (1 − β1^t);  m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2);
 *   w ← w − lr_t · m / (√v + ε)
 * (keras/src/optimizers/adam.py). The arithmetic is element-wise, so one vector gives the same
 * numbers as one update per weight, with about 25 TensorFlow ops per step instead of about 200:
 * op dispatch, not arithmetic, is most of an update's cost at this model's size. tfjs' own
 * AdamOptimizer adds ε to the bias-corrected √v̂, which differs slightly from Keras; this follows
 * Keras.
 */
class FlatAdam {
  private m: tf.Tensor1D;
  private v: tf.Tensor1D;
  private step = 0;
  private readonly sizes: number[];
  private readonly oneMinusBeta1: tf.Scalar;
  private readonly oneMinusBeta2: tf.Scalar;
  private readonly epsilon: tf.Scalar;

  constructor(
    private readonly optimizer: tf.AdamOptimizer,
    readonly variables: tf.Variable[],
  ) {
    this.sizes = variables.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.keep(tf.zeros([total]));
    this.v = tf.keep(tf.zeros([total]));
    const { beta1, beta2, epsilon } = optimizer as unknown as { beta1: number; beta2: number; epsilon: number };
    this.oneMinusBeta1 = tf.keep(tf.scalar(1 - beta1));
    this.oneMinusBeta2 = tf.keep(tf.scalar(1 - beta2));
    this.epsilon = tf.keep(tf.scalar(epsilon));
  }

  /** One update from the gradients, given in the order of `variables`. */
  apply(grads: tf.Tensor[]): void {
    this.step += 1;
    const { learningRate, beta1, beta2 } = this.optimizer as unknown as { learningRate: number; beta1: number; beta2: number };
    const lrT = (learningRate * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    const [m, v, parts] = tf.tidy(() => {
      const g = tf.concat(grads.map((x) => tf.reshape(x, [-1])));
      const m = tf.add(this.m, tf.mul(tf.sub(g, this.m), this.oneMinusBeta1));
      const v = tf.add(this.v, tf.mul(tf.sub(tf.square(g), this.v), this.oneMinusBeta2));
      const delta = tf.div(tf.mul(m, tf.scalar(lrT)), tf.add(tf.sqrt(v), this.epsilon));
      const parts = tf.split(delta, this.sizes);
      return [m, v, this.variables.map((w, i) => tf.sub(w, tf.reshape(parts[i], w.shape)))] as const;
    });
    this.m.dispose();
    this.v.dispose();
    // Kept: apply() runs inside the training step's tidy, which would otherwise free the state.
    this.m = tf.keep(m as tf.Tensor1D);
    this.v = tf.keep(v as tf.Tensor1D);
    this.variables.forEach((w, i) => {
      w.assign(parts[i]);
      parts[i].dispose();
    });
  }

  dispose(): void {
    tf.dispose([this.m, this.v, this.oneMinusBeta1, this.oneMinusBeta2, this.epsilon]);
  }
}

/** What an optimizer carries for the fast paths: the moments of the weights it trains. */
interface OptimizerState {
  variables: tf.Variable[];
  dispose(): void;
}

const optimizerStates = new WeakMap<tf.Optimizer, Map<string, OptimizerState>>();

/**
 * The state of kind `key` that `optimizer` keeps for `variables`, created on first use and kept
 * across fit calls like tfjs' own slots; a different set of variables starts afresh. It is freed
 * with the optimizer: `model.optimizer.dispose()` disposes it too.
 */
function optimizerState<S extends OptimizerState>(optimizer: tf.Optimizer, key: string, variables: tf.Variable[], create: () => S): S {
  let states = optimizerStates.get(optimizer);
  if (!states) {
    const own = new Map<string, OptimizerState>();
    states = own;
    optimizerStates.set(optimizer, own);
    const dispose = optimizer.dispose.bind(optimizer);
    optimizer.dispose = () => {
      for (const state of own.values()) state.dispose();
      own.clear();
      dispose();
    };
  }
  const existing = states.get(key) as S | undefined;
  if (existing && existing.variables.length === variables.length && existing.variables.every((v, i) => v === variables[i])) {
    return existing;
  }
  existing?.dispose();
  const created = create();
  states.set(key, created);
  return created;
}

function flatAdamFor(optimizer: tf.Optimizer, variables: tf.Variable[]): FlatAdam | undefined {
  if (!(optimizer instanceof tf.AdamOptimizer)) return undefined;
  return optimizerState(optimizer, 'flat-adam', variables, () => new FlatAdam(optimizer, variables));
}

interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

function optimizerOf(model: tf.LayersModel): tf.Optimizer {
  const optimizer = (model as unknown as { optimizer?: tf.Optimizer }).optimizer;
  if (!optimizer) {
    throw new Error('the model has no optimizer: call model.compile({ optimizer, loss, metrics }) before fit');
  }
  return optimizer;
}

function checkInputs(x: tf.Tensor, y: tf.Tensor, options: FitOptions): void {
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`fit: x has ${x.shape[0]} images but y has ${y.shape[0]} labels`);
  }
  if (y.dtype !== 'int32' || y.rank !== 1) throw new Error('fit: y must be a 1-D int32 tensor of class labels');
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${options.epochs}`);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`);
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new Error(`fit: validationSplit must be in [0, 1), got ${split}`);
}

/**
 * Trains `model` (compiled with an optimizer) on x (N, 28, 28, 1) and integer labels y (N,).
 * Returns at once; `await run.done` waits for the end. The tensors passed in are not disposed.
 */
export function fit(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D, options: FitOptions): TrainingRun {
  checkInputs(x, y, options);
  const optimizer = optimizerOf(model);
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  const batchSize = options.batchSize ?? 32;
  const n = x.shape[0];
  // Keras: split_at = int(n * (1 - validation_split)); validation is x[split_at:].
  const nTrain = options.validationSplit ? Math.floor(n * (1 - options.validationSplit)) : n;
  const nVal = n - nTrain;
  if (nTrain < 1) throw new Error(`fit: validationSplit ${options.validationSplit} leaves no training images`);

  const history = emptyHistory();
  let stopRequested = false;
  let stopped = false;
  const onSigint = () => {
    stopRequested = true;
  };
  const graceful = options.stopOnInterrupt ?? process.listenerCount('SIGINT') > 0;

  const loop = async (): Promise<History> => {
    const rng = createRng(options.seed ?? 42);
    const xTrain = x.slice(0, nTrain);
    const yTrain = y.slice(0, nTrain);
    const xVal = nVal > 0 ? x.slice(nTrain, nVal) : null;
    const yVal = nVal > 0 ? y.slice(nTrain, nVal) : null;
    const order = new Int32Array(nTrain);
    // The originals stay on the host for augmentation; each epoch gets a new transformed tensor.
    const originals = options.augment ? (xTrain.dataSync() as Float32Array).slice() : null;
    const [rows, cols] = [x.shape[1] ?? 28, x.shape[2] ?? 28];
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const batchesPerEpoch = Math.ceil(nTrain / batchSize);
    let graph: GraphTrainer | undefined;
    let moments: AdamMoments | undefined;
    if (graceful) process.on('SIGINT', onSigint);
    try {
      if (options.engine !== 'eager' && optimizer instanceof tf.AdamOptimizer) {
        graph = await compileGraphTrainer(model, optimizer as unknown as AdamSettings);
        if (graph) {
          const trainer = graph;
          moments = optimizerState(optimizer, 'graph-adam', trainer.variables, () => ({
            ...zeroMoments(trainer.variables),
            variables: trainer.variables,
          }));
        } else if (options.engine === 'graph') {
          throw new Error('fit: engine \'graph\' supports Sequential models of Conv2D, MaxPooling2D, Flatten, Dense and Dropout layers ending in Dense + softmax');
        }
      } else if (options.engine === 'graph') {
        throw new Error('fit: engine \'graph\' needs an Adam optimizer (tf.train.adam)');
      }
      const adamSettings = optimizer as unknown as AdamSettings;
      const validationBatchSize = options.validationBatchSize ?? 1000;
      const adam = graph || options.flatAdam === false ? undefined : flatAdamFor(optimizer, variables);
      const head = graph || options.fromLogits === false ? undefined : softmaxHead(model);
      /** One step op by op through tfjs: the batch's mean loss and its number of right answers. */
      const eagerStep = (xb: tf.Tensor, yb: tf.Tensor1D): { loss: number; correct: number } => {
        let correctT: tf.Scalar | undefined;
        const lossT = tf.tidy(() => {
          const lossFn = () => {
            if (head) {
              const logits = forwardLogits(head, xb, true);
              correctT = tf.keep(correctCount(yb, logits));
              return sparseSoftmaxCrossEntropyWithLogits(logits, yb);
            }
            const probs = model.apply(xb, { training: true }) as tf.Tensor2D;
            correctT = tf.keep(correctCount(yb, probs));
            return sparseCategoricalCrossentropy(yb, probs);
          };
          if (!adam) return optimizer.minimize(lossFn, true, variables) as tf.Scalar;
          const { value, grads } = tf.variableGrads(lossFn, variables);
          adam.apply(variables.map((v) => grads[v.name]));
          return value;
        });
        const step = { loss: lossT.dataSync()[0], correct: correctT!.dataSync()[0] };
        tf.dispose([lossT, correctT!]);
        return step;
      };
      for (const cb of callbacks) {
        cb.onTrainBegin?.({ epochs: options.epochs, batchesPerEpoch, trainSamples: nTrain, validationSamples: nVal });
      }
      for (let epoch = 0; epoch < options.epochs && !stopRequested; epoch++) {
        const started = performance.now();
        shuffledIndices(nTrain, rng, order);
        const epochX = originals && options.augment
          ? tf.tensor(options.augment.augment(originals, nTrain, rows, cols), xTrain.shape)
          : xTrain;
        let lossSum = 0;
        let correct = 0;
        let seen = 0;
        for (let b = 0; b < batchesPerEpoch; b++) {
          const start = b * batchSize;
          const size = Math.min(batchSize, nTrain - start);
          const [xb, yb] = tf.tidy(() => {
            const idx = tf.tensor1d(order.subarray(start, start + size), 'int32');
            return [tf.gather(epochX, idx), tf.gather(yTrain, idx) as tf.Tensor1D] as const;
          });
          const result = graph && moments
            ? graph.step(xb, yb, moments, adamSettings.learningRate, adamSettings.beta1, adamSettings.beta2)
            : eagerStep(xb, yb);
          tf.dispose([xb, yb]);
          lossSum += result.loss * size;
          correct += result.correct;
          seen += size;
          for (const cb of callbacks) cb.onBatchEnd?.(b, { loss: lossSum / seen, acc: correct / seen });
          // Yield to the event loop so display messages go out and an interrupt can land.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (stopRequested) break;
        }
        if (epochX !== xTrain) epochX.dispose();
        if (stopRequested) break;
        const val = !xVal || !yVal
          ? { loss: NaN, acc: NaN }
          : graph
            ? meanOverBatches(xVal, yVal, validationBatchSize, graph.evaluate.bind(graph))
            : evaluateInBatches(model, xVal, yVal, validationBatchSize);
        const logs: EpochLogs = {
          loss: lossSum / seen,
          acc: correct / seen,
          val_loss: val.loss,
          val_acc: val.acc,
          seconds: (performance.now() - started) / 1000,
        };
        history.loss.push(logs.loss);
        history.acc.push(logs.acc);
        history.val_loss.push(logs.val_loss);
        history.val_acc.push(logs.val_acc);
        history.seconds.push(logs.seconds);
        for (const cb of callbacks) cb.onEpochEnd?.(epoch, logs, history);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      stopped = stopRequested && history.loss.length < options.epochs;
      for (const cb of callbacks) cb.onTrainEnd?.(history, stopped);
      return history;
    } finally {
      if (graceful) process.removeListener('SIGINT', onSigint);
      graph?.dispose();
      tf.dispose([xTrain, yTrain, ...(xVal ? [xVal] : []), ...(yVal ? [yVal] : [])]);
    }
  };

  const done = loop().then(() => undefined);
  return {
    history,
    done,
    stop: () => {
      stopRequested = true;
    },
    get stopped() {
      return stopped;
    },
  };
}
