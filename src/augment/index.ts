/**
 * # augment
 *
 * Keras' `ImageDataGenerator` in TypeScript, for notebook 01's ⑪ and notebook 02's runs: random
 * rotation, zoom, shear, shifts and flips with Keras' current semantics, applied on the host with
 * nearest fill, seeded so that a run repeats.
 */
export {
  ImageDataGenerator, augmentCopies, augmentDataset, augmentOptionsFrom,
  type AugmentHyperparameters, type AugmentOptions, type AugmentedDataset, type FillMode,
} from './augment';
