/**
 * # runs
 *
 * Kept runs: a trained model with its history and test result, saved under `models/` by a key of
 * its architecture, compile and fit settings and data, so notebook 02 (fit's `keep: keptRun(…)`)
 * and `npm run full-run` (`fitOrLoad`) load instead of training again; and the training sets with
 * augmented copies those runs use; and Keras' ModelCheckpoint, which keeps a training's best epoch
 * the same way.
 */
export {
  KEPT_RUN_FORMAT, KeptRunError, MODELS_DIR_ENV, checkKeptRun, fitOrLoad, keptRun, listKeptRuns, modelsDir, weightsDifference,
  withAugmentedCopies, type AugmentPlacement, type FitOrLoadSpec, type KeepOptions, type KeptRun, type KeptRunKeeper,
  type KeptRunOptions, type KeptRunState,
} from './persist';
export { ModelCheckpoint, type ModelCheckpointOptions } from './checkpoint';
