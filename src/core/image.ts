/**
 * The size of a Fashion-MNIST image, named once: 28 rows × 28 columns of one grey channel, 784
 * pixels. The data loader checks the files against it, the models take it as their input shape,
 * and the figures and augmentation default to it.
 */

export const IMAGE_ROWS = 28;
export const IMAGE_COLS = 28;
export const IMAGE_CHANNELS = 1;
/** Pixels of one image: 784. */
export const IMAGE_PIXELS = IMAGE_ROWS * IMAGE_COLS;
/** A model's input shape without the batch: [28, 28, 1], as Keras' `input_shape=(28, 28, 1)`. */
export const INPUT_SHAPE: readonly [number, number, number] = [IMAGE_ROWS, IMAGE_COLS, IMAGE_CHANNELS];
