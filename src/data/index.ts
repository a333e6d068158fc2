/**
 * # data
 *
 * Fashion-MNIST from disk to tensors: the IDX parser with its checks (`idx.ts`), the verified
 * download (`download.ts`), the loader that looks in the configured folder, the cache, the system
 * copy and only then the mirror (`load.ts`), the label names in Korean and English
 * (`labels.ts`), and the array steps of notebook 01's ①–④ (`preprocess.ts`).
 */
export {
  DATA_ENV, DATA_FILES, DEFAULT_SYSTEM_DIR, DataError, OFFICIAL_MIRROR, OFFICIAL_SPEC, describeDataset, formatDatasetFacts,
  loadFashionMnist, type DataFileInfo, type DataSource, type FashionMnist, type FashionMnistSplit, type LoadOptions,
} from './load';
export { CLASS_NAMES_EN, CLASS_NAMES_KO, NUM_CLASSES, labelName } from './labels';
export {
  imageAt, imagesAt, normalize, reshape, shapeOf, toTensors, valueRange, type RawSplit, type TensorData, type TensorOptions,
} from './preprocess';
