/**
 * The notebooks' library, imported as `import * as fm from "fmnist"` (see src/package.json), and
 * the commands' too. Only what a notebook or a command calls is named here; everything else stays
 * inside its folder. The folders, lowest first (each imports only from those before it):
 *
 * - `core/`     backend, hyperparameters, random stream, image size, project root
 * - `data/`     Fashion-MNIST files, labels, the array steps of notebook 01
 * - `augment/`  Keras' ImageDataGenerator
 * - `model/`    the architectures and their summary
 * - `training/` fit, its engines, History, evaluation
 * - `display/`  figures, tables, progress, notebook views
 * - `runs/`     kept runs and augmented training sets
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
  type FitOptions, type TrainingRun, type History, type TrainingCallbacks,
} from './training';
export {
  show, showTable, showText, imageFigure, imageGridFigure, historyFigure, compareHistoriesFigure, confusionMatrixFigure,
  probabilityBarFigure, trainingMonitor, notebookSetup, showHyperparameters, showModelSummary, classifierPanel,
  type Figure, type ClassifierPanelOptions,
} from './display';
export { fitOrLoad, keptRun, listKeptRuns, modelsDir, weightsDifference, withAugmentedCopies, type KeptRun } from './runs';
