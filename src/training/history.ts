import type { tf } from '../core/backend';

/**
 * The per-epoch record of a training run, with the key names the seed's plotting code reads
 * (`loss`, `val_loss`, `acc`, `val_acc`; current Keras says `accuracy`, tfjs says `acc`).
 */
export interface History {
  loss: number[];
  acc: number[];
  val_loss: number[];
  val_acc: number[];
  /** Wall-clock seconds of each epoch, validation included. */
  seconds: number[];
  /**
   * The learning rate each epoch trained with, recorded when a callback manages it
   * (ReduceLROnPlateau), as Keras records it then; absent otherwise. Keras 2 named it `lr`, Keras 3
   * `learning_rate`; this History keeps the seed's Keras 2 names throughout.
   */
  lr?: number[];
  /** Which engine trained, and when eager why: 'graph', or 'eager — LeakyReLU has no graph rule yet'. */
  engine?: string;
}

export interface EpochLogs {
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  seconds: number;
  /** The learning rate this epoch trained with; set by a callback that manages it (see History.lr). */
  lr?: number;
}

/**
 * What a callback may do to the training it observes, as a Keras callback does through
 * `self.model`: stop it, and read or change the optimizer's learning rate.
 */
export interface TrainingContext {
  /**
   * The model being trained. The graph engine keeps the weights inside TensorFlow's session during
   * an epoch and brings the model's variables up to date at each epoch's end (as Keras' JAX backend
   * syncs its state), so onEpochEnd and onTrainEnd read the trained weights, while onBatchEnd reads
   * those of the last epoch's end. Weights a callback sets (`model.setWeights`) are trained from at
   * the next step.
   */
  readonly model: tf.LayersModel;
  /**
   * Ends training, as Keras' `model.stop_training = True`: called from onEpochEnd, after this
   * epoch; from onBatchEnd, after this batch, and the unfinished epoch is not recorded (as an
   * interrupt). The run then reports `stopped` when epochs were left.
   */
  stopTraining(): void;
  /** The learning rate the next step uses. */
  getLearningRate(): number;
  /** Changes the learning rate from the next step on, in whichever engine trains. */
  setLearningRate(lr: number): void;
}

/**
 * What a training run tells its observers (live progress in a notebook, a log line in a script)
 * and the callbacks that act on it (EarlyStopping, ReduceLROnPlateau, …, through the context).
 * Callbacks are called in the order given, as Keras calls them. fit always passes the context;
 * it is optional here only so that an observer can be driven without a training (tests).
 */
export interface TrainingCallbacks {
  onTrainBegin?(info: { epochs: number; batchesPerEpoch: number; trainSamples: number; validationSamples: number; engine?: string }, context?: TrainingContext): void;
  /** After each batch: running means over the epoch so far, as Keras' progress bar shows them. */
  onBatchEnd?(batch: number, logs: { loss: number; acc: number }, context?: TrainingContext): void;
  /** A promise it returns is awaited before the next epoch starts, so a callback may save (ModelCheckpoint). */
  onEpochEnd?(epoch: number, logs: EpochLogs, history: History, context?: TrainingContext): unknown;
  /** Also called when training stops early (interrupt, stopTraining), with the epochs completed so far; a promise it returns is awaited. */
  onTrainEnd?(history: History, stopped: boolean, context?: TrainingContext): unknown;
  /**
   * For a callback that changes what training produces (ReduceLROnPlateau, EarlyStopping): its settings, hashed with the training's by fit's `keep`, so that a kept
   * run is never reused for a training with other such callbacks. Absent for observers.
   */
  readonly shapesTraining?: Readonly<Record<string, unknown>>;
}

export function emptyHistory(): History {
  return { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] };
}
