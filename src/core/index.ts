/**
 * # core
 *
 * What every other folder stands on and nothing here imports from them: the TensorFlow backend
 * (`tf`, and the refusal to train on the pure-JS backend), the one typed hyperparameter object
 * with its documented defaults and command-line parsing, the seeded random stream, the image
 * size constants, the project root, and the one native kernel tfjs does not expose
 * (TensorFlow's fused sparse softmax cross-entropy).
 */
export { tf, backendInfo, describeBackend, requireNativeBackend, type BackendInfo } from './backend';
export {
  ConfigError, DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_NAMES, OVERRIDES_ENV, describeHyperparameters, hyperparameters,
  kebabCase, overridesFromEnv, validateHyperparameters,
  type HyperparameterName, type HyperparameterSet, type Hyperparameters,
} from './config';
export { IMAGE_CHANNELS, IMAGE_COLS, IMAGE_PIXELS, IMAGE_ROWS, INPUT_SHAPE } from './image';
export { projectRoot } from './paths';
export { createRng, shuffledIndices, type Rng } from './random';
