/**
 * Keras' ModelCheckpoint for fit (the other callbacks are in training/callbacks.ts, with the
 * monitoring it shares): it keeps the model through persist.ts' saver, so a checkpoint is a kept
 * run's folder, written under a temporary name and renamed into place, and checked when loaded.
 */
import { tf } from '../core/backend';
import { Monitor, required, type MonitorOptions } from '../training/callbacks';
import type { EpochLogs, History, TrainingCallbacks, TrainingContext } from '../training/history';
import { checkRunName, keepCheckpoint, loadKeptModelFrom } from './persist';

export interface ModelCheckpointOptions extends MonitorOptions {
  /**
   * The checkpoint's name: it is kept in `<models>/<name>-<hash>/` (lower-case letters, digits,
   * '-', '_'), where the hash covers the architecture and these settings.
   */
  name: string;
  /** Keep the model only when the monitored value improves on the best so far. Default false, as Keras (then every epoch replaces it). */
  saveBestOnly?: boolean;
  /** With saveBestOnly, a value to beat before the first save. Default: none, as Keras' initial_value_threshold. */
  initialValueThreshold?: number;
  /** Where kept runs live. Default: modelsDir() (models/, or FMNIST_MODELS_DIR). */
  dir?: string;
}

/**
 * Keeps the model at the end of an epoch (Keras' ModelCheckpoint), with saveBestOnly only when it
 * beats the best so far, as a kept run: written under a temporary name and renamed into place,
 * so the folder always holds one whole checkpoint. `load()` reads it back, checked.
 */
export class ModelCheckpoint implements TrainingCallbacks {
  readonly name: string;
  readonly saveBestOnly: boolean;
  /** The best monitored value so far (Keras keeps it across fits too). */
  best: number | undefined;
  /** The epochs (from 0) at which the model was kept, in order. */
  readonly savedEpochs: number[] = [];
  /** The folder of the checkpoint once one is kept. */
  folder: string | undefined;
  private readonly watch: Monitor;
  private readonly dir: string | undefined;

  constructor(options: ModelCheckpointOptions) {
    this.watch = new Monitor('ModelCheckpoint', options, 0);
    checkRunName(options.name);
    this.name = options.name;
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.best = options.initialValueThreshold;
    this.dir = options.dir;
  }

  onTrainBegin(info: { validationSamples: number }): void {
    if (this.saveBestOnly) this.watch.checkAvailable(info);
  }

  async onEpochEnd(epoch: number, logs: EpochLogs, history: History, context?: TrainingContext): Promise<void> {
    const { model } = required(context, 'ModelCheckpoint');
    const current = this.watch.value(logs);
    if (this.saveBestOnly) {
      // Keras saves anyway when the value is missing; checkAvailable refused that case already.
      if (current !== undefined && !this.watch.isImprovement(current, this.best)) return;
      if (current !== undefined) this.best = current;
    }
    const upTo = (list: number[]) => list.slice(0, epoch + 1);
    const kept: History = {
      loss: upTo(history.loss), acc: upTo(history.acc), val_loss: upTo(history.val_loss), val_acc: upTo(history.val_acc),
      seconds: upTo(history.seconds), ...(history.lr ? { lr: upTo(history.lr) } : {}), ...(history.engine ? { engine: history.engine } : {}),
    };
    this.folder = await keepCheckpoint({
      name: this.name,
      model,
      settings: { monitor: this.watch.monitor, mode: this.watch.mode, saveBestOnly: this.saveBestOnly },
      history: kept,
      metrics: { epoch: epoch + 1, ...(current !== undefined ? { [this.watch.monitor]: current } : {}) },
      dir: this.dir,
    });
    this.savedEpochs.push(epoch);
  }

  /** The kept model, after its checksums are checked; the caller disposes it. */
  async load(): Promise<tf.LayersModel> {
    if (!this.folder) throw new Error(`ModelCheckpoint '${this.name}': nothing has been kept yet`);
    return loadKeptModelFrom(this.folder);
  }
}
