/**
 * Views that put a computed result on screen: each pairs one computing helper with the display
 * layer, so a notebook cell stays one line. Introduced in notebook 01 (hyperparameters, summary).
 */
import { describeBackend, requireNativeBackend, type tf } from '../core/backend';
import { recordFact } from '../core/facts';
import { HyperparameterSet, describeHyperparameters } from '../core/config';
import { ensurePlotly, showTable, showText } from './display';
import { modelSummary } from '../model/models';

/** Keras' `model.summary()`: layer, output shape and parameters, then the totals. */
export function showModelSummary(model: tf.LayersModel): void {
  const s = modelSummary(model);
  showTable(
    s.rows.map((r) => ({ 'Layer (type)': `${r.layer} (${r.type})`, 'Output Shape': r.outputShape, 'Param #': r.params })),
    { caption: `Model: "${s.name}"` },
  );
  showText(
    `Total params: ${s.totalParams.toLocaleString('en-US')}\n` +
      `Trainable params: ${s.trainableParams.toLocaleString('en-US')}\n` +
      `Non-trainable params: ${(s.totalParams - s.trainableParams).toLocaleString('en-US')}`,
  );
}

/** The values in force for this run and where each came from (notebook or command line). */
export function showHyperparameters(set: HyperparameterSet): void {
  showTable(describeHyperparameters(set), { caption: '이번 실행의 하이퍼파라미터 / Hyperparameters of this run' });
}

/**
 * The first line of every notebook: refuses the pure-JS backend, puts the plot library on the page
 * (again after a kernel restart or page reload) and returns the backend line to show.
 */
export function notebookSetup(): string {
  const info = requireNativeBackend();
  ensurePlotly(true);
  const description = describeBackend(info);
  // For the teaching site's index (core/facts.ts): the backend this kernel really runs on.
  recordFact({ kind: 'backend', description });
  return description;
}
