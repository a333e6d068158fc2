// The type entry of the `fmnist` package (see package.json here): the compiled helpers' types.
export * from '../dist/index';
