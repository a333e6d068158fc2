/**
 * The project's helpers, imported by the notebooks as `fmnist` (see src/package.json).
 * One module per concern; each file says where the notebooks introduce it.
 */
export * from './backend';
export * from './config';
export * from './labels';
export * from './random';
export * from './history';
export * from './data';
export * from './augment';
export * from './figures';
export * from './display';
export * from './progress';
export * from './preprocess';
export * from './models';
export * from './train';
export * from './evaluate';
export * from './views';
export * from './persist';
