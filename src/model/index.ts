/**
 * # model
 *
 * Models as Keras writes them: layer factories with Keras' names and defaults (`keras.ts`, what the
 * notebooks' model cells call), the seeded Dropout that draws a new mask each step as Keras does
 * (`dropout.ts`), the tutorial's three architectures for the commands and tests, and the data of
 * Keras' `model.summary()` (`models.ts`).
 */
export { SeededDropout } from './dropout';
export { kerasLayers, type KerasLayerOptions, type KerasLayers, type KernelInitializerName } from './keras';
export {
  buildCase2Model, buildSeedModel, buildVgg7Model, formatSummary, modelSummary,
  type ModelOptions, type ModelSummary, type SummaryRow,
} from './models';
