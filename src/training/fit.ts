/**
 * Training: the equivalent of Keras' `model.fit(x, y, epochs, batch_size, validation_split)` with
 * the same mathematics, written as a lean loop instead of tfjs' `model.fit` (see
 * docs/performance.md for why and by how much). Introduced in notebook 01, step 8.
 *
 * What matches Keras:
 * - validation is the LAST `validationSplit` of the arrays, cut before any shuffling;
 * - the training part is reshuffled every epoch (seeded here, so runs repeat);
 * - the loss is the one given to `model.compile` (sparse or one-hot categorical cross-entropy),
 *   plus the layers' regularisation losses; after a softmax layer it is computed from the logits
 *   with TensorFlow's fused kernel, which is what Keras 3 does (it keeps the logits on the softmax
 *   output), otherwise from the probabilities clipped to [1e-7, 1 − 1e-7];
 * - accuracy compares the argmax with the label;
 *
 * Two engines run the step: the whole step as one TensorFlow graph written from the rulebook
 * (graph.ts, rules.ts), or op by op through tfjs for what the rulebook has no rule for. The choice
 * is made before training (chooseEngine) and shown in the progress header and `history.engine`.
 * - epoch loss/acc are the sample-weighted means over the epoch's batches, val_* over the whole
 *   validation part, under the key names the seed's plot reads (loss, acc, val_loss, val_acc).
 */
import type { AugmentOptions, ImageDataGenerator } from '../augment/augment';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { tf } from '../core/backend';
import { TF_THREADS } from '../core/threads';
import { EpochLogs, History, TrainingCallbacks, TrainingContext, emptyHistory } from './history';
import { createRng, shuffledIndices } from '../core/random';
import { GraphPlan, GraphTrainer, compileGraphTrainer, planGraph } from './graph';
import { optimizerRule, optimizerState } from './optimizers';
import { LOSS_RULES, LossRule, lossRule } from './rules';

export interface FitOptions {
  /** Passes over the training part. Keras' default is 1; the seed uses 15. */
  epochs: number;
  /** Images per gradient step. Default: DEFAULT_HYPERPARAMETERS.batchSize (Keras' 32). */
  batchSize?: number;
  /** Fraction held out for validation, from the end. Default 0 (no validation). */
  validationSplit?: number;
  /** Seed for the per-epoch shuffling. Default: DEFAULT_HYPERPARAMETERS.seed. */
  seed?: number;
  /**
   * Observers (live progress in a notebook, log lines in a script) and Keras' callbacks
   * (callbacks.ts: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TensorBoard), in order.
   */
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
   * Which engine runs the step. Default: the graph engine (the whole step as one TensorFlow graph,
   * as Keras runs it, graph.ts) when the rulebook (rules.ts, optimizers.ts) has a rule for every
   * layer, the loss and the optimizer, else the eager engine (op by op through tfjs), with the
   * reason in the progress header and `history.engine`. 'graph' refuses a model it cannot take
   * instead; 'eager' skips the graph engine.
   */
  engine?: 'graph' | 'eager';
  /**
   * Eager engine only: update the weights with the rulebook's optimizer (optimizers.ts; Keras' Adam
   * for tf.train.adam) on all weights as one flat vector. Default true; false runs tfjs' own
   * per-weight optimizer, kept for the benchmark's before/after comparison.
   */
  flatAdam?: boolean;
  /**
   * Graph engine only: compute each batch as two halves side by side, on two cores, and add up
   * their gradients: the same step as on the whole batch, up to the order of floating-point sums.
   * Default: true where TensorFlow runs two ops at once (core/threads.ts's TF_THREADS, on a machine
   * with two or more cores) and no layer needs the whole batch (BatchNormalization's statistics,
   * which always trains whole); false computes each batch whole.
   */
  splitBatch?: boolean;
  /**
   * Eager engine only: for a model ending in Dense + softmax, compute the loss from the logits
   * (TensorFlow's fused softmax cross-entropy kernels), as Keras does. Default true; false computes it
   * from the softmax output (clipped), kept for the benchmark's before/after comparison.
   */
  fromLogits?: boolean;
  /**
   * Where a finished training is kept and looked up, e.g. `fm.keptRun("case2")` (runs/persist.ts).
   * When it holds a run of exactly this training (model, compile settings, fit settings, data), its
   * weights and history are loaded into the model instead of training; otherwise the model trains
   * and the finished run is kept. A kept run that fails its checksums is reported in one line and
   * trained again, never loaded. A training ended by an interrupt is not kept; one ended by a
   * callback (EarlyStopping) is, since that callback's settings are part of the key. Default: none,
   * always train.
   */
  keep?: RunKeeper;
}

/** Everything that decides what a training produces, as fit hands it to a RunKeeper. */
export interface TrainingPlan {
  readonly model: tf.LayersModel;
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  readonly epochs: number;
  readonly batchSize: number;
  readonly validationSplit: number;
  readonly seed: number;
  /** The on-the-fly augmentation's settings; undefined without it. */
  readonly augment?: Readonly<AugmentOptions>;
  /** The settings of the callbacks that change what training produces (TrainingCallbacks.shapesTraining). */
  readonly callbacks?: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** Finds and keeps finished trainings for fit's `keep` option. */
export interface RunKeeper {
  /** Loads the kept run of exactly this plan into plan.model and returns its history, or undefined. */
  load(plan: TrainingPlan): Promise<History | undefined>;
  /** Keeps a training that ran to its last epoch. */
  save(plan: TrainingPlan, history: History): Promise<void>;
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
  /** 'loaded' when `keep` held this very training and nothing was trained; else 'trained'. */
  readonly source: 'trained' | 'loaded';
}

/** Mean sparse categorical cross-entropy of softmax outputs, as Keras computes it (the loss rule's own). */
export function sparseCategoricalCrossentropy(labels: tf.Tensor1D, probs: tf.Tensor2D): tf.Scalar {
  return LOSS_RULES.sparseCategoricalCrossentropy.fromProbs(probs, labels);
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
  const [kernel, bias] = last.weights.map((w) => w.read() as tf.Variable);
  return { body: model.layers.slice(0, -1), kernel, bias: config.useBias === false ? undefined : bias };
}

/** The logits of a softmax-headed model: every layer, then the last Dense without its softmax. */
function forwardLogits(head: SoftmaxHead, x: tf.Tensor, training: boolean): tf.Tensor2D {
  let h = x;
  for (const layer of head.body) h = layer.apply(h, { training }) as tf.Tensor;
  return tf.fused.matMul({ a: h as tf.Tensor2D, b: head.kernel as tf.Tensor2D, bias: head.bias }) as tf.Tensor2D;
}

/** The regularisation losses of the model's layers (Keras adds them to every loss it reports). */
function regularisation(model: tf.LayersModel): tf.Scalar | undefined {
  const losses = model.calculateLosses();
  return losses.length === 0 ? undefined : (tf.addN(losses) as tf.Scalar);
}

/** A batch's summed loss and its number of right answers. */
interface BatchSums {
  lossSum: number;
  correct: number;
}

/** Mean loss and accuracy over a whole dataset, measured slice by slice of `batchSize` images. */
function meanOverBatches(x: tf.Tensor, y: tf.Tensor, batchSize: number, measure: (xb: tf.Tensor, yb: tf.Tensor) => BatchSums): { loss: number; acc: number } {
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

/**
 * The loss the model was compiled with (sparse categorical cross-entropy when it was not), and
 * its accuracy metric; anything the engines cannot compute is refused in one line naming it.
 */
function compiledLoss(model: tf.LayersModel): LossRule {
  const compiled = model as unknown as { loss?: unknown; metrics?: unknown; optimizer?: unknown };
  if (compiled.loss === undefined) return LOSS_RULES.sparseCategoricalCrossentropy;
  const found = lossRule(compiled.loss);
  if ('reason' in found) throw new Error(`fit: ${found.reason}`);
  const metrics = compiled.metrics === undefined ? ['accuracy'] : Array.isArray(compiled.metrics) ? compiled.metrics : [compiled.metrics];
  const unknown = metrics.filter((m) => !ACCURACY_NAMES.includes(String(m)));
  if (unknown.length > 0 || metrics.length === 0) {
    throw new Error(`fit: metrics ${JSON.stringify(metrics)} cannot be reported here; compile with metrics: ["accuracy"]`);
  }
  return found.rule;
}

/** The names Keras and tfjs accept for the accuracy of a classifier. */
const ACCURACY_NAMES = ['accuracy', 'acc', 'sparseCategoricalAccuracy', 'categoricalAccuracy', 'sparse_categorical_accuracy', 'categorical_accuracy'];

/** Loss and accuracy over a whole dataset in large forward passes (no dropout), with the compiled loss. */
export function evaluateInBatches(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  batchSize = 1000,
): { loss: number; acc: number } {
  const loss = compiledLoss(model);
  checkLabels(loss, x, y, 'evaluate');
  const head = softmaxHead(model);
  const result = meanOverBatches(x, y, batchSize, (xb, yb) => {
    const size = xb.shape[0];
    const [lossT, correctT] = tf.tidy(() => {
      const scores = head ? forwardLogits(head, xb, false) : (model.predict(xb) as tf.Tensor2D);
      const mean = head ? loss.fromLogits(scores, yb) : loss.fromProbs(scores, yb);
      return [tf.mul(mean, size), loss.correct(scores, yb)];
    });
    const sums = { lossSum: lossT.dataSync()[0], correct: correctT.dataSync()[0] };
    tf.dispose([lossT, correctT]);
    return sums;
  });
  const reg = tf.tidy(() => regularisation(model));
  if (reg) {
    result.loss += reg.dataSync()[0];
    reg.dispose();
  }
  return result;
}

function optimizerOf(model: tf.LayersModel): tf.Optimizer {
  const optimizer = (model as unknown as { optimizer?: tf.Optimizer }).optimizer;
  if (!optimizer) {
    throw new Error('the model has no optimizer: call model.compile({ optimizer, loss, metrics }) before fit');
  }
  return optimizer;
}

/** Labels as the loss takes them: class ids for the sparse loss, one-hot rows for the other. */
function checkLabels(loss: LossRule, x: tf.Tensor, y: tf.Tensor, where: string): void {
  if (x.shape[0] !== y.shape[0]) throw new Error(`${where}: x has ${x.shape[0]} images but y has ${y.shape[0]} labels`);
  if (loss.labels === 'sparse' && (y.dtype !== 'int32' || y.rank !== 1)) {
    throw new Error(`${where}: y must be a 1-D int32 tensor of class labels for ${loss.kerasName}`);
  }
  if (loss.labels === 'onehot' && (y.dtype !== 'float32' || y.rank !== 2)) {
    throw new Error(`${where}: y must be a 2-D float32 tensor of one-hot rows for ${loss.kerasName} (tf.oneHot(labels, 10).toFloat())`);
  }
}

function checkOptions(options: FitOptions): void {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${options.epochs}`);
  const batchSize = options.batchSize ?? DEFAULT_HYPERPARAMETERS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`fit: batchSize must be a positive integer, got ${batchSize}`);
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new Error(`fit: validationSplit must be in [0, 1), got ${split}`);
  if (options.engine !== undefined && options.engine !== 'graph' && options.engine !== 'eager') {
    throw new Error(`fit: engine must be 'graph' or 'eager', got ${JSON.stringify(options.engine)}`);
  }
}

/** Which engine trains the model, and when it is the eager one, why. */
export interface EngineChoice {
  engine: 'graph' | 'eager';
  /** Why not the graph engine; undefined for the graph engine. */
  reason?: string;
  plan?: GraphPlan;
}

/**
 * The engine decision, made before training: the graph engine when the rulebook has a rule for
 * every layer, the loss and the optimizer, else the eager engine with the first missing rule as
 * the reason. `engine: 'graph'` turns that reason into an error, `engine: 'eager'` skips the graph.
 */
export function chooseEngine(model: tf.LayersModel, asked?: 'graph' | 'eager'): EngineChoice {
  if (asked === 'eager') return { engine: 'eager', reason: "engine 'eager' was asked for" };
  const optimizer = optimizerRule(optimizerOf(model));
  const plan = planGraph(model);
  const reason = 'reason' in optimizer ? optimizer.reason : 'reason' in plan ? plan.reason : undefined;
  if (reason === undefined) return { engine: 'graph', plan: plan as GraphPlan };
  if (asked === 'graph') throw new Error(`fit: engine 'graph' cannot train this model: ${reason}`);
  return { engine: 'eager', reason };
}

/** 'graph', or 'eager — <reason>', as the progress header and `history.engine` show it. */
export function describeEngine(choice: EngineChoice): string {
  return choice.reason ? `${choice.engine} — ${choice.reason}` : choice.engine;
}

/**
 * Trains `model`, compiled with an optimizer, a loss and metrics, on images x (N, rows, cols,
 * channels) and labels y as the compiled loss takes them: class ids (N,) int32 for
 * sparseCategoricalCrossentropy, one-hot rows (N, classes) float32 for categoricalCrossentropy.
 * Returns at once; `await run.done` waits for the end. The tensors passed in are not disposed.
 */
export function fit(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, options: FitOptions): TrainingRun {
  checkOptions(options);
  const optimizer = optimizerOf(model);
  const loss = compiledLoss(model);
  checkLabels(loss, x, y, 'fit');
  const choice = chooseEngine(model, options.engine);
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  const batchSize = options.batchSize ?? DEFAULT_HYPERPARAMETERS.batchSize;
  const seed = options.seed ?? DEFAULT_HYPERPARAMETERS.seed;
  const n = x.shape[0];
  // Keras: split_at = int(n * (1 - validation_split)); validation is x[split_at:].
  const nTrain = options.validationSplit ? Math.floor(n * (1 - options.validationSplit)) : n;
  const nVal = n - nTrain;
  if (nTrain < 1) throw new Error(`fit: validationSplit ${options.validationSplit} leaves no training images`);

  const history: History = { ...emptyHistory(), engine: describeEngine(choice) };
  let stopRequested = false;
  // An interrupt (SIGINT, run.stop()) ends a training nobody planned to end there; a callback's
  // stopTraining (EarlyStopping) is part of the plan, its settings hashed, so only the first
  // keeps the run from being kept.
  let interrupted = false;
  let stopped = false;
  const onSigint = () => {
    stopRequested = true;
    interrupted = true;
  };
  const graceful = options.stopOnInterrupt ?? process.listenerCount('SIGINT') > 0;
  let source: TrainingRun['source'] = 'trained';
  const shaping = callbacks.flatMap((cb) => (cb.shapesTraining ? [cb.shapesTraining] : []));
  const plan: TrainingPlan = {
    model, x, y, epochs: options.epochs, batchSize, validationSplit: options.validationSplit ?? 0, seed,
    augment: options.augment?.options,
    ...(shaping.length > 0 ? { callbacks: shaping } : {}),
  };
  const loop = async (): Promise<History> => {
    const kept = await options.keep?.load(plan);
    if (kept) {
      // The engine that trained the kept run, as its meta.json recorded it.
      Object.assign(history, kept);
      source = 'loaded';
      return history;
    }
    const rng = createRng(seed);
    const xTrain = x.slice(0, nTrain);
    const yTrain = y.slice(0, nTrain);
    const xVal = nVal > 0 ? x.slice(nTrain, nVal) : null;
    const yVal = nVal > 0 ? y.slice(nTrain, nVal) : null;
    const order = new Int32Array(nTrain);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const batchesPerEpoch = Math.ceil(nTrain / batchSize);
    const rule = optimizerRule(optimizer);
    // The optimizer's state lives in one place (optimizers.ts) whichever engine trains; tfjs' own
    // optimizer (flatAdam: false, or an optimizer without a rule) keeps its own slots instead.
    const state = 'rule' in rule && options.flatAdam !== false ? optimizerState(optimizer, rule.rule, rule.settings, variables) : undefined;
    let graph: GraphTrainer | undefined;
    const context: TrainingContext = {
      model,
      stopTraining: () => {
        stopRequested = true;
      },
      getLearningRate: () => state?.learningRate ?? (optimizer as unknown as { learningRate: number }).learningRate,
      setLearningRate: (lr: number) => {
        if (!(lr >= 0 && Number.isFinite(lr))) throw new Error(`fit: the learning rate must be a number ≥ 0, got ${lr}`);
        state?.setLearningRate(lr);
        // tfjs' own optimizer (flatAdam: false, or one without a rule) reads its field at every
        // step, except SGD and Momentum, which keep it as a tensor that setLearningRate replaces.
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        (optimizer as unknown as { setLearningRate?: (lr: number) => void }).setLearningRate?.(lr);
      },
    };
    if (graceful) process.on('SIGINT', onSigint);
    try {
      if (choice.plan && state) graph = await compileGraphTrainer(choice.plan, state, { splitBatch: options.splitBatch ?? TF_THREADS.interOp >= 2 });
      const validationBatchSize = options.validationBatchSize ?? 1000;
      const head = graph || options.fromLogits === false ? undefined : softmaxHead(model);
      /** One step op by op through tfjs: the batch's mean loss and its number of right answers. */
      const eagerStep = (xb: tf.Tensor, yb: tf.Tensor): { loss: number; correct: number } => {
        let correctT: tf.Scalar | undefined;
        const lossT = tf.tidy(() => {
          const lossFn = () => {
            const scores = head ? forwardLogits(head, xb, true) : (model.apply(xb, { training: true }) as tf.Tensor2D);
            correctT = tf.keep(loss.correct(scores, yb));
            const mean = head ? loss.fromLogits(scores, yb) : loss.fromProbs(scores, yb);
            const reg = regularisation(model);
            return reg ? tf.add(mean, reg) as tf.Scalar : mean;
          };
          if (!state) return optimizer.minimize(lossFn, true, variables) as tf.Scalar;
          const { value, grads } = tf.variableGrads(lossFn, variables);
          state.applyEager(variables.map((v) => grads[v.name]));
          return value;
        });
        const step = { loss: lossT.dataSync()[0], correct: correctT!.dataSync()[0] };
        tf.dispose([lossT, correctT!]);
        return step;
      };
      for (const cb of callbacks) {
        cb.onTrainBegin?.({ epochs: options.epochs, batchesPerEpoch, trainSamples: nTrain, validationSamples: nVal, engine: history.engine }, context);
      }
      for (let epoch = 0; epoch < options.epochs && !stopRequested; epoch++) {
        const started = performance.now();
        shuffledIndices(nTrain, rng, order);
        // Each epoch gets a newly warped copy of the training images, made by TensorFlow's own
        // transform kernel from the originals, which stay untouched.
        const epochX = options.augment ? options.augment.augmentTensor(xTrain as tf.Tensor4D) : xTrain;
        let lossSum = 0;
        let correct = 0;
        let seen = 0;
        for (let b = 0; b < batchesPerEpoch; b++) {
          const start = b * batchSize;
          const size = Math.min(batchSize, nTrain - start);
          const [xb, yb] = tf.tidy(() => {
            const idx = tf.tensor1d(order.subarray(start, start + size), 'int32');
            return [tf.gather(epochX, idx), tf.gather(yTrain, idx)] as const;
          });
          const result = graph ? graph.step(xb, yb) : eagerStep(xb, yb);
          tf.dispose([xb, yb]);
          lossSum += result.loss * size;
          correct += result.correct;
          seen += size;
          for (const cb of callbacks) cb.onBatchEnd?.(b, { loss: lossSum / seen, acc: correct / seen }, context);
          // Yield to the event loop so display messages go out and an interrupt can land.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (stopRequested) break;
        }
        if (epochX !== xTrain) epochX.dispose();
        // The graph engine trains inside its session; the model's variables catch up here, before
        // the epoch's callbacks (EarlyStopping, ModelCheckpoint) read them.
        graph?.pull();
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
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs, history, context);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      stopped = stopRequested && history.loss.length < options.epochs;
      for (const cb of callbacks) await cb.onTrainEnd?.(history, stopped, context);
      if (!(stopped && interrupted)) await options.keep?.save(plan, history);
      return history;
    } catch (err) {
      // After an error mid-epoch the model still gets the steps that ran, as the eager engine
      // leaves them; a failure of that copy must not hide the error that ended training.
      try {
        graph?.pull();
      } catch {
        // The first error is the one to report.
      }
      throw err;
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
      interrupted = true;
    },
    get stopped() {
      return stopped;
    },
    get source() {
      return source;
    },
  };
}
