/**
 * # training
 *
 * Keras' `fit` and `evaluate` for this project's models: the training loop (`fit.ts`) with its
 * two engines, the whole step as one TensorFlow graph (`graph.ts`) or op by op through tfjs, the
 * History shape and callbacks the progress display listens to (`history.ts`), Keras' callbacks
 * that act on a training (`callbacks.ts`), and the test-set measures of notebook 02 (`evaluate.ts`).
 */
export { fit, type FitOptions, type RunKeeper, type TrainingPlan, type TrainingRun } from './fit';
export { emptyHistory, type EpochLogs, type History, type TrainingCallbacks, type TrainingContext } from './history';
export {
  EarlyStopping, ReduceLROnPlateau, TensorBoard, type EarlyStoppingOptions, type MonitorOptions, type ReduceLROnPlateauOptions,
  type TensorBoardOptions,
} from './callbacks';
export {
  argmaxRows, confusionMatrix, evaluate, mistakes, perClassAccuracy, predictProbabilities, type Mistake,
} from './evaluate';
