/**
 * Keras' everyday callbacks for `fit`: EarlyStopping, ReduceLROnPlateau and TensorBoard here, and
 * ModelCheckpoint in runs/checkpoint.ts (it keeps through runs/, which comes after training/),
 * with Keras 3's defaults and decisions (keras/src/callbacks/*.py), each checked against the
 * decisions Keras makes for the same epoch logs (callbacks.test.ts). They act on the
 * training through fit's TrainingContext: `stopTraining()` is Keras' `model.stop_training = True`,
 * `getLearningRate`/`setLearningRate` its `model.optimizer.learning_rate`.
 *
 * Where they differ from Keras, on purpose:
 * - a monitor that cannot be read is refused in one line at the start of training (an unknown
 *   name at construction, a `val_…` monitor without validation data at onTrainBegin), where Keras
 *   warns at every epoch and does nothing;
 * - a reused EarlyStopping starts afresh at every fit (as Keras 2 did); Keras 3 carries its best
 *   value and weights over, so a second fit could restore the weights of the first;
 * - ModelCheckpoint keeps the model as a kept run (runs/persist.ts: staged, checksummed, renamed
 *   into place) under models/, not as a .keras file.
 * Monitor and `required` are shared with ModelCheckpoint; index.ts does not export them.
 */
import path from 'node:path';
import { tf } from '../core/backend';
import { logsDir } from '../core/paths';
import type { EpochLogs, History, TrainingCallbacks, TrainingContext } from './history';

/** What a callback may watch: the keys of EpochLogs, and Keras 3's names for the accuracy. */
const MONITOR_KEYS: Readonly<Record<string, keyof EpochLogs>> = {
  loss: 'loss', acc: 'acc', accuracy: 'acc', val_loss: 'val_loss', val_acc: 'val_acc', val_accuracy: 'val_acc',
};

export type MonitorMode = 'auto' | 'min' | 'max';

/** What every monitoring callback takes (Keras' MonitorCallback). */
export interface MonitorOptions {
  /** The quantity watched: 'val_loss', 'val_acc', 'loss' or 'acc' ('accuracy' too). Default 'val_loss', as Keras. */
  monitor?: string;
  /**
   * 'min' when lower is better, 'max' when higher is; 'auto' (the default, as Keras) takes 'min'
   * for a loss and 'max' for an accuracy.
   */
  mode?: MonitorMode;
}

/**
 * Keras' MonitorCallback: reads the watched value from the epoch's logs and says whether it
 * improves on a reference by more than `minDelta`. Written once for the three callbacks.
 */
export class Monitor {
  readonly key: keyof EpochLogs;
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;

  constructor(readonly owner: string, options: MonitorOptions, minDelta: number) {
    this.monitor = options.monitor ?? 'val_loss';
    const key = MONITOR_KEYS[this.monitor];
    if (!key) throw new Error(`${owner}: monitor '${this.monitor}' is not one of ${Object.keys(MONITOR_KEYS).join(', ')}`);
    this.key = key;
    const mode = options.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new Error(`${owner}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
    // Keras' auto mode: a loss falls, a metric whose direction is up (accuracy) rises.
    this.mode = mode !== 'auto' ? mode : key.endsWith('loss') ? 'min' : 'max';
    if (!Number.isFinite(minDelta)) throw new Error(`${owner}: minDelta must be a number, got ${minDelta}`);
    this.minDelta = Math.abs(minDelta);
  }

  /** Refuses a validation monitor for a training without validation data, in one line. */
  checkAvailable(info: { validationSamples: number }): void {
    if (this.key.startsWith('val_') && info.validationSamples === 0) {
      throw new Error(`${this.owner}: monitor '${this.monitor}' needs validation data; pass fit a validationSplit or monitor 'loss'`);
    }
  }

  value(logs: EpochLogs): number | undefined {
    const v = logs[this.key];
    return typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
  }

  /** Keras: monitor_op(current − min_delta, reference), with min_delta negated for 'min'; no reference is always an improvement. */
  isImprovement(current: number, reference: number | undefined): boolean {
    if (reference === undefined) return true;
    return this.mode === 'min' ? current + this.minDelta < reference : current - this.minDelta > reference;
  }
}

/** The context fit passes; a callback driven without one (not by fit) is refused in one line. */
export function required(context: TrainingContext | undefined, owner: string): TrainingContext {
  if (!context) throw new Error(`${owner}: must be called by fit, which passes the training's context`);
  return context;
}

function checkCount(owner: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${owner}: ${name} must be a whole number ≥ 0, got ${value}`);
  return value;
}

export interface EarlyStoppingOptions extends MonitorOptions {
  /** The smallest change that counts as an improvement. Default 0, as Keras. */
  minDelta?: number;
  /** Epochs without improvement after which training stops. Default 0, as Keras. */
  patience?: number;
  /**
   * Training stops unless the monitored value beats this within `patience` epochs (the wait
   * restarts only on a value that beats both it and the best so far). Default: none.
   */
  baseline?: number;
  /**
   * At the end of training, set the model's weights back to those of the best epoch (whether or
   * not training stopped early, as Keras 3 does). Default false, as Keras.
   */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all (a warm-up). Default 0, as Keras. */
  startFromEpoch?: number;
}

/** Stops training when the monitored value stops improving (Keras' EarlyStopping). */
export class EarlyStopping implements TrainingCallbacks {
  readonly patience: number;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly shapesTraining: Readonly<Record<string, unknown>>;
  /** The epoch (from 0) at which it stopped training; 0 when it did not, as Keras. */
  stoppedEpoch = 0;
  /** The epoch (from 0) with the best monitored value. */
  bestEpoch = 0;
  /** The best monitored value seen; undefined before the first. */
  best: number | undefined;
  /** Epochs since the last improvement. */
  wait = 0;
  private readonly watch: Monitor;
  private bestWeights: tf.Tensor[] | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    this.watch = new Monitor('EarlyStopping', options, options.minDelta ?? 0);
    this.patience = checkCount('EarlyStopping', 'patience', options.patience ?? 0);
    this.startFromEpoch = checkCount('EarlyStopping', 'startFromEpoch', options.startFromEpoch ?? 0);
    this.baseline = options.baseline;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    // Where it stops, and with restoreBestWeights which weights remain, decides what a kept run holds.
    this.shapesTraining = {
      earlyStopping: {
        monitor: this.watch.monitor, mode: this.watch.mode, minDelta: this.watch.minDelta, patience: this.patience,
        baseline: this.baseline ?? null, startFromEpoch: this.startFromEpoch, restoreBestWeights: this.restoreBestWeights,
      },
    };
  }

  onTrainBegin(info: { validationSamples: number }): void {
    this.watch.checkAvailable(info);
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.best = undefined;
    this.dropBestWeights();
  }

  onEpochEnd(epoch: number, logs: EpochLogs, _history: History, context?: TrainingContext): void {
    const current = this.watch.value(logs);
    if (current === undefined || epoch < this.startFromEpoch) return;
    const { model } = required(context, 'EarlyStopping');
    // Keras: with no best weights yet, the current ones are the best.
    if (this.restoreBestWeights && !this.bestWeights) {
      this.keepWeights(model);
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.watch.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.keepWeights(model);
      // The wait restarts only on a value that beats the baseline as well as the best so far.
      if (this.baseline === undefined || this.watch.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      required(context, 'EarlyStopping').stopTraining();
    }
  }

  onTrainEnd(_history: History, _stopped: boolean, context?: TrainingContext): void {
    if (this.restoreBestWeights && this.bestWeights) {
      required(context, 'EarlyStopping').model.setWeights(this.bestWeights);
      this.dropBestWeights();
    }
  }

  /** A copy of every weight (trainable or not, as Keras' get_weights), replacing the previous copy. */
  private keepWeights(model: tf.LayersModel): void {
    const copies = tf.tidy(() => model.getWeights().map((w) => w.clone()));
    this.dropBestWeights();
    this.bestWeights = copies;
  }

  private dropBestWeights(): void {
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = undefined;
  }
}

export interface ReduceLROnPlateauOptions extends MonitorOptions {
  /** The learning rate is multiplied by this, 0 ≤ factor < 1. Default 0.1, as Keras. */
  factor?: number;
  /** Epochs without improvement after which the rate is reduced. Default 10, as Keras. */
  patience?: number;
  /** The smallest change that counts as an improvement. Default 1e-4, as Keras. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0, as Keras. */
  cooldown?: number;
  /** The rate is never reduced below this. Default 0, as Keras. */
  minLr?: number;
}

/**
 * Reduces the learning rate when the monitored value stops improving (Keras' ReduceLROnPlateau);
 * the new rate holds from the next step on, in either engine. Each epoch's rate goes into
 * `history.lr` and the epoch's logs (`lr`), as Keras records it.
 */
export class ReduceLROnPlateau implements TrainingCallbacks {
  readonly factor: number;
  readonly patience: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly shapesTraining: Readonly<Record<string, unknown>>;
  best: number | undefined;
  wait = 0;
  cooldownCounter = 0;
  private readonly watch: Monitor;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    this.watch = new Monitor('ReduceLROnPlateau', options, options.minDelta ?? 1e-4);
    this.factor = options.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) throw new Error(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    this.patience = checkCount('ReduceLROnPlateau', 'patience', options.patience ?? 10);
    this.cooldown = checkCount('ReduceLROnPlateau', 'cooldown', options.cooldown ?? 0);
    this.minLr = options.minLr ?? 0;
    if (!(this.minLr >= 0)) throw new Error(`ReduceLROnPlateau: minLr must be ≥ 0, got ${this.minLr}`);
    this.shapesTraining = {
      reduceLROnPlateau: {
        monitor: this.watch.monitor, mode: this.watch.mode, minDelta: this.watch.minDelta, factor: this.factor,
        patience: this.patience, cooldown: this.cooldown, minLr: this.minLr,
      },
    };
  }

  onTrainBegin(info: { validationSamples: number }): void {
    this.watch.checkAvailable(info);
    this.best = undefined;
    this.cooldownCounter = 0;
    this.wait = 0;
  }

  onEpochEnd(epoch: number, logs: EpochLogs, history: History, context?: TrainingContext): void {
    const ctx = required(context, 'ReduceLROnPlateau');
    // The optimizer keeps its rate in float32 (Keras' variable, the graph engine's step scalar),
    // so it is read and compared as one: 1e-3 · 0.1 must not stay above a floor of 1e-4.
    const lr = Math.fround(ctx.getLearningRate());
    logs.lr = lr;
    history.lr ??= [];
    history.lr[epoch] = lr;
    const current = this.watch.value(logs);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.watch.isImprovement(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait += 1;
      if (this.wait >= this.patience && lr > Math.fround(this.minLr)) {
        ctx.setLearningRate(Math.fround(Math.max(lr * this.factor, this.minLr)));
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
  }
}

export interface TensorBoardOptions {
  /**
   * The run's folder; TensorBoard shows each folder under its --logdir as a run, with `train` and
   * `validation` inside as Keras writes them. Default: `<project>/logs/<runName>`.
   */
  logDir?: string;
  /** The run's name under `<project>/logs` when logDir is not given. Default: the start time, e.g. 20261202-031500. */
  runName?: string;
  /**
   * 'epoch' (the default, as Keras) writes the epoch scalars only; a number N also writes the
   * running batch loss and accuracy every N batches (`batch_loss`, `batch_acc`), against the
   * count of batches since the start.
   */
  updateFreq?: 'epoch' | number;
}

/** The summary calls of tfjs-node's backend (nodejs_kernel_backend.ts) that the writer below uses. */
interface SummaryBackend {
  summaryWriter(logdir: string): tf.Tensor;
  createSummaryFileWriter(handle: tf.Tensor, logdir: string): void;
  writeScalarSummary(handle: tf.Tensor, step: number, name: string, value: number): void;
  flushSummaryWriter(handle: tf.Tensor): void;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

/**
 * One TensorBoard event file, written through the same TensorFlow ops as tfjs-node's
 * `tf.node.summaryFileWriter`, which keeps every writer it made (five tensors each, four of them
 * leaked arguments) for the life of the process and offers no close: this one frees its
 * arguments, and `close` ends the file and frees the handle, so a training leaves no tensor.
 */
class EventWriter {
  private readonly backend = tf.backend() as unknown as SummaryBackend;
  private handle: tf.Tensor | undefined;

  constructor(dir: string) {
    const handle = this.backend.summaryWriter(dir);
    tf.tidy(() => this.backend.createSummaryFileWriter(handle, dir));
    this.handle = handle;
  }

  scalar(tag: string, value: number, step: number): void {
    if (this.handle) this.backend.writeScalarSummary(this.handle, step, tag, value);
  }

  flush(): void {
    if (this.handle) this.backend.flushSummaryWriter(this.handle);
  }

  close(): void {
    if (!this.handle) return;
    this.flush();
    this.backend.executeMultipleOutputs('CloseSummaryWriter', [], [this.handle], 0);
    this.handle.dispose();
    this.handle = undefined;
  }
}

/**
 * Writes the training's scalars as TensorBoard event files, with Keras' tags: `epoch_loss`,
 * `epoch_acc` and `epoch_learning_rate` in `<logDir>/train`, `epoch_loss` and `epoch_acc` of the
 * validation part in `<logDir>/validation`, the epoch (from 0) as the step. Each training writes
 * new event files (TensorBoard reads them all); they are flushed every epoch, so TensorBoard
 * shows a training while it runs, and closed at its end.
 */
export class TensorBoard implements TrainingCallbacks {
  readonly logDir: string;
  readonly updateFreq: 'epoch' | number;
  private globalBatch = 0;
  private train: EventWriter | undefined;
  private validation: EventWriter | undefined;

  constructor(options: TensorBoardOptions = {}) {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    this.logDir = path.resolve(options.logDir ?? path.join(logsDir(), options.runName ?? stamp));
    this.updateFreq = options.updateFreq ?? 'epoch';
    if (this.updateFreq !== 'epoch' && !(Number.isInteger(this.updateFreq) && this.updateFreq > 0)) {
      throw new Error(`TensorBoard: updateFreq must be 'epoch' or a positive whole number, got ${JSON.stringify(options.updateFreq)}`);
    }
  }

  onTrainBegin(info: { validationSamples: number }): void {
    this.close();
    this.globalBatch = 0;
    this.train = new EventWriter(path.join(this.logDir, 'train'));
    this.validation = info.validationSamples > 0 ? new EventWriter(path.join(this.logDir, 'validation')) : undefined;
  }

  onBatchEnd(_batch: number, logs: { loss: number; acc: number }): void {
    this.globalBatch += 1;
    if (this.updateFreq === 'epoch' || this.globalBatch % this.updateFreq !== 0 || !this.train) return;
    this.train.scalar('batch_loss', logs.loss, this.globalBatch);
    this.train.scalar('batch_acc', logs.acc, this.globalBatch);
  }

  onEpochEnd(epoch: number, logs: EpochLogs, _history: History, context?: TrainingContext): void {
    if (!this.train) return;
    this.train.scalar('epoch_loss', logs.loss, epoch);
    this.train.scalar('epoch_acc', logs.acc, epoch);
    // Keras logs the rate in force during the epoch; ReduceLROnPlateau, when before this callback, put it in the logs.
    const lr = logs.lr ?? (context ? Math.fround(context.getLearningRate()) : undefined);
    if (lr !== undefined) this.train.scalar('epoch_learning_rate', lr, epoch);
    this.train.flush();
    if (this.validation && !Number.isNaN(logs.val_loss)) {
      this.validation.scalar('epoch_loss', logs.val_loss, epoch);
      this.validation.scalar('epoch_acc', logs.val_acc, epoch);
      this.validation.flush();
    }
  }

  onTrainEnd(): void {
    this.close();
  }

  private close(): void {
    this.train?.close();
    this.validation?.close();
    this.train = this.validation = undefined;
  }
}
