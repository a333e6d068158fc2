/**
 * The notebooks' library, imported as `import * as fm from "fmnist"` (see src/package.json), and
 * the commands' too. Only what a notebook or a command calls is named here; everything else stays
 * inside its folder. The folders, lowest first (each imports only from those before it):
 *
 * - `core/`     backend, hyperparameters, random stream, image size, project root
 * - `data/`     Fashion-MNIST files, labels, the array steps of notebook 01
 * - `augment/`  Keras' ImageDataGenerator
 * - `model/`    the architectures and their summary
 * - `training/` fit, its engines, History, Keras' callbacks, evaluation
 * - `display/`  figures, tables, progress, notebook views
 * - `runs/`     kept runs, ModelCheckpoint and augmented training sets
 * - `cli/`      the commands behind `npm run …` (not imported by the library)
 */
export {
  tf, describeBackend, hyperparameters, DEFAULT_HYPERPARAMETERS, ConfigError, INPUT_SHAPE, IMAGE_ROWS, IMAGE_COLS,
  type Hyperparameters, type HyperparameterSet,
} from './core';
export {
  loadFashionMnist, toTensors, normalize, reshape, shapeOf, valueRange, imageAt, imagesAt, labelName,
  CLASS_NAMES_EN, CLASS_NAMES_KO, type FashionMnist,
} from './data';
export { ImageDataGenerator, augmentCopies, augmentOptionsFrom, type AugmentOptions } from './augment';
export {
  kerasLayers, buildSeedModel, buildCase2Model, buildVgg7Model, modelSummary, formatSummary, type KerasLayers, type ModelOptions,
} from './model';
export {
  fit, evaluate, predictProbabilities, argmaxRows, confusionMatrix, perClassAccuracy, mistakes,
  type FitOptions, type TrainingRun, type History, type TrainingCallbacks, type TrainingContext,
} from './training';
/** Stops training when a monitored value stops improving; can restore the best epoch's weights (Keras' EarlyStopping). */
export { EarlyStopping, type EarlyStoppingOptions } from './training';
/** Multiplies the learning rate by a factor when a monitored value stops improving (Keras' ReduceLROnPlateau). */
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './training';
/** Writes loss, accuracy and learning rate per epoch for TensorBoard under logs/<run> (`npm run tensorboard`). */
export { TensorBoard, type TensorBoardOptions } from './training';
/** Keeps the model of the best epoch so far under models/, whole and checked (Keras' ModelCheckpoint). */
export { ModelCheckpoint, type ModelCheckpointOptions } from './runs';
export {
  show, showTable, showText, imageFigure, imageGridFigure, historyFigure, compareHistoriesFigure, confusionMatrixFigure,
  probabilityBarFigure, trainingMonitor, notebookSetup, showHyperparameters, showModelSummary, classifierPanel,
  type Figure, type ClassifierPanelOptions,
} from './display';
export { fitOrLoad, keptRun, listKeptRuns, modelsDir, weightsDifference, withAugmentedCopies, type KeptRun } from './runs';
