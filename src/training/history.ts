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
  /** Which engine trained, and when eager why: 'graph', or 'eager — LeakyReLU has no graph rule yet'. */
  engine?: string;
}

export interface EpochLogs {
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  seconds: number;
}

/** What a training run tells its observers (live progress in a notebook, a log line in a script). */
export interface TrainingCallbacks {
  onTrainBegin?(info: { epochs: number; batchesPerEpoch: number; trainSamples: number; validationSamples: number; engine?: string }): void;
  /** After each batch: running means over the epoch so far, as Keras' progress bar shows them. */
  onBatchEnd?(batch: number, logs: { loss: number; acc: number }): void;
  onEpochEnd?(epoch: number, logs: EpochLogs, history: History): void;
  /** Also called when training stops early (interrupt), with the epochs completed so far. */
  onTrainEnd?(history: History, stopped: boolean): void;
}

export function emptyHistory(): History {
  return { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] };
}
