/**
 * Every knob of the tutorial in one typed object, with the seed's (Keras') values as defaults.
 * A notebook's hyperparameter cell calls `hyperparameters({...})` with its own literal values;
 * `npm run export -- <notebook> --epochs 3` overrides the same names (kebab-case on the command
 * line) through the FMNIST_OVERRIDES environment variable, which the kernel inherits.
 * Introduced in notebook 01, "Hyperparameters".
 */
import { recordFact } from './facts';

export interface Hyperparameters {
  /** Passes over the training images. Seed: 15. */
  epochs: number;
  /** Images per gradient step. Keras' default, which the seed keeps: 32. */
  batchSize: number;
  /** Adam's step size. Keras' default: 0.001. */
  learningRate: number;
  /** Adam's first-moment decay. Keras' default: 0.9. */
  beta1: number;
  /** Adam's second-moment decay. Keras' default: 0.999. */
  beta2: number;
  /** Adam's epsilon. Keras' default: 1e-7 (tfjs' own default differs, so it is set explicitly). */
  epsilon: number;
  /** Fraction of the training images held out for validation, taken from the end. Seed: 0.25. */
  validationSplit: number;
  /** Dropout rate before the last Dense layer. Seed: 0.3. */
  dropoutRate: number;
  /** Filters of the three Conv2D layers. Seed: 32, 64, 128. */
  convFilters: number[];
  /** Units of the hidden Dense layer. Seed: 128. */
  denseUnits: number;
  /** How many of the 60,000 training images to use (the first N). Default: all. */
  trainSamples: number;
  /** How many of the 10,000 test images to evaluate on (the first N). Default: all. */
  testSamples: number;
  /** Seed for weight initialisation, shuffling, dropout and augmentation. */
  seed: number;
  /** Progress output while training: 0 silent, 1 progress bar, 2 one line per epoch (as Keras). */
  verbose: 0 | 1 | 2;
  /** Augmentation: maximum rotation in degrees. Seed: 10. */
  rotationRange: number;
  /** Augmentation: zoom factor drawn from [1 - z, 1 + z]. Seed: 0.1. */
  zoomRange: number;
  /** Augmentation: maximum shear angle in degrees (current Keras semantics). Seed: 0.5. */
  shearRange: number;
  /** Augmentation: maximum horizontal shift as a fraction of the width. Seed: 0.1. */
  widthShiftRange: number;
  /** Augmentation: maximum vertical shift as a fraction of the height. Seed: 0.1. */
  heightShiftRange: number;
  /** Augmentation: mirror left-right with probability 1/2. Seed: true. */
  horizontalFlip: boolean;
  /** Augmentation: mirror top-bottom with probability 1/2. Seed: false. */
  verticalFlip: boolean;
  /** Augmentation: how many augmented copies of the first image to draw. Seed: 100. */
  augmentCount: number;
  /** Epochs of the VGG-7 runs in notebook 02. The book's notebook: 25. */
  vggEpochs: number;
  /** Augmented copies of random training images added for the book's augmentation run. Book: 30,000. */
  augmentExtra: number;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  epochs: 15,
  batchSize: 32,
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  validationSplit: 0.25,
  dropoutRate: 0.3,
  convFilters: [32, 64, 128],
  denseUnits: 128,
  trainSamples: 60000,
  testSamples: 10000,
  seed: 42,
  verbose: 1,
  rotationRange: 10,
  zoomRange: 0.1,
  shearRange: 0.5,
  widthShiftRange: 0.1,
  heightShiftRange: 0.1,
  horizontalFlip: true,
  verticalFlip: false,
  augmentCount: 100,
  vggEpochs: 25,
  augmentExtra: 30000,
});

export type HyperparameterName = keyof Hyperparameters;

/** A bad value or name; the message names the parameter and what is allowed. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Check = (value: unknown) => string | undefined;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const integerIn = (min: number, max: number): Check => (v) =>
  isNumber(v) && Number.isInteger(v) && v >= min && v <= max ? undefined : `an integer from ${min} to ${max}`;
const numberIn = (min: number, max: number, openMin = false, openMax = false): Check => (v) =>
  isNumber(v) && (openMin ? v > min : v >= min) && (openMax ? v < max : v <= max)
    ? undefined
    : `a number in ${openMin ? '(' : '['}${min}, ${max}${openMax ? ')' : ']'}`;
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const filterList: Check = (v) =>
  Array.isArray(v) && v.length === 3 && v.every((x) => isNumber(x) && Number.isInteger(x) && x >= 1 && x <= 1024)
    ? undefined
    : 'three integers from 1 to 1024, e.g. 32,64,128';

/** What each parameter allows. Limits are generous but keep a typo from starting a useless run. */
const CHECKS: Record<HyperparameterName, Check> = {
  epochs: integerIn(1, 1000),
  batchSize: integerIn(1, 60000),
  learningRate: numberIn(0, 10, true),
  beta1: numberIn(0, 1, false, true),
  beta2: numberIn(0, 1, false, true),
  epsilon: numberIn(0, 1, true),
  validationSplit: numberIn(0, 1, true, true),
  dropoutRate: numberIn(0, 1, false, true),
  convFilters: filterList,
  denseUnits: integerIn(1, 8192),
  trainSamples: integerIn(1, 60000),
  testSamples: integerIn(1, 10000),
  seed: integerIn(0, 2 ** 31 - 1),
  verbose: integerIn(0, 2),
  rotationRange: numberIn(0, 180),
  zoomRange: numberIn(0, 1, false, true),
  shearRange: numberIn(0, 89),
  widthShiftRange: numberIn(0, 1, false, true),
  heightShiftRange: numberIn(0, 1, false, true),
  horizontalFlip: boolean,
  verticalFlip: boolean,
  augmentCount: integerIn(1, 10000),
  vggEpochs: integerIn(1, 1000),
  // Five times the training set at most: 300,000 images of 28×28 float32 are about 1 GB.
  augmentExtra: integerIn(0, 300000),
};

export const HYPERPARAMETER_NAMES = Object.keys(DEFAULT_HYPERPARAMETERS) as HyperparameterName[];

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isName(name: string): name is HyperparameterName {
  return Object.prototype.hasOwnProperty.call(DEFAULT_HYPERPARAMETERS, name);
}

/** Rejects unknown names and bad values; returns the values as given. */
export function validateHyperparameters(values: Record<string, unknown>, where = 'hyperparameter'): Partial<Hyperparameters> {
  for (const [name, value] of Object.entries(values)) {
    if (!isName(name)) {
      throw new ConfigError(`unknown ${where} '${name}' (known: ${HYPERPARAMETER_NAMES.join(', ')})`);
    }
    const problem = CHECKS[name](value);
    if (problem) {
      throw new ConfigError(`${where} ${name} must be ${problem}, got ${JSON.stringify(value)}`);
    }
  }
  const merged = { ...DEFAULT_HYPERPARAMETERS, ...values } as Hyperparameters;
  // Validation needs at least one image on each side of the split.
  const validationCount = Math.floor(merged.trainSamples * merged.validationSplit);
  if (validationCount < 1 || validationCount >= merged.trainSamples) {
    throw new ConfigError(
      `${where} validationSplit ${merged.validationSplit} of trainSamples ${merged.trainSamples} leaves no image for ` +
        `${validationCount < 1 ? 'validation' : 'training'}`,
    );
  }
  return values as Partial<Hyperparameters>;
}

/**
 * Converts one command-line value to the type of the parameter's default; `flag` is the flag as
 * the user typed it, so that the error repeats it. The command-line parser (src/cli/args.ts)
 * calls this for every hyperparameter flag; the value is then checked by validateHyperparameters.
 */
export function parseHyperparameterValue(name: HyperparameterName, text: string, flag = `--${kebabCase(name)}`): unknown {
  const fallback = DEFAULT_HYPERPARAMETERS[name];
  if (typeof fallback === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new ConfigError(`${flag}: must be true or false`);
  }
  if (Array.isArray(fallback)) {
    return text.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)));
  }
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n)) throw new ConfigError(`${flag}: must be a number`);
  return n;
}

/** The hyperparameter a kebab-case flag name (`batch-size`) stands for, if any. */
export function hyperparameterOfFlag(flag: string): HyperparameterName | undefined {
  const name = camelCase(flag);
  return isName(name) && kebabCase(name) === flag ? name : undefined;
}

/** Why a value is not allowed for this parameter ("an integer from 1 to 1000"), or undefined if it is. */
export function hyperparameterProblem(name: HyperparameterName, value: unknown): string | undefined {
  return CHECKS[name](value);
}

/** What a parameter allows, in words ("an integer from 1 to 1000"), from the check that enforces it. */
export function allowedValues(name: HyperparameterName): string {
  // A value no check accepts makes each one say what it wants.
  return CHECKS[name](Symbol('nothing')) ?? '';
}

/** A parameter's value as the command line spells it (`32,64,128`, `true`, `1e-7`). */
export function formatHyperparameter(value: Hyperparameters[HyperparameterName]): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * One line per hyperparameter for a command's --help: what it is, in which unit. The longer
 * reasoning (the seed's and Keras' values) is on the fields of Hyperparameters above.
 */
export const HYPERPARAMETER_HELP: Readonly<Record<HyperparameterName, string>> = Object.freeze({
  epochs: 'passes over the training images',
  batchSize: 'images per gradient step',
  learningRate: "Adam's step size",
  beta1: "Adam's first-moment decay",
  beta2: "Adam's second-moment decay",
  epsilon: "Adam's epsilon",
  validationSplit: 'fraction of the training images held out for validation',
  dropoutRate: 'dropout rate before the last Dense layer',
  convFilters: 'filters of the three Conv2D layers, comma-separated',
  denseUnits: 'units of the hidden Dense layer',
  trainSamples: 'training images used (the first N of 60,000)',
  testSamples: 'test images evaluated on (the first N of 10,000)',
  seed: 'seed for initialisation, shuffling, dropout and augmentation',
  verbose: 'progress while training: 0 silent, 1 bar, 2 a line per epoch',
  rotationRange: 'augmentation: maximum rotation, degrees',
  zoomRange: 'augmentation: zoom drawn from [1 - z, 1 + z]',
  shearRange: 'augmentation: maximum shear, degrees',
  widthShiftRange: 'augmentation: maximum horizontal shift, fraction of the width',
  heightShiftRange: 'augmentation: maximum vertical shift, fraction of the height',
  horizontalFlip: 'augmentation: mirror left-right half of the time',
  verticalFlip: 'augmentation: mirror top-bottom half of the time',
  augmentCount: 'augmented copies of the first image to draw',
  vggEpochs: "epochs of notebook 02's VGG-7 runs",
  augmentExtra: "augmented copies added for the book's augmentation run, images",
});

export const OVERRIDES_ENV = 'FMNIST_OVERRIDES';

/** Overrides passed down by `npm run export` / `npm run tutorial`, validated. */
export function overridesFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Hyperparameters> {
  const raw = env[OVERRIDES_ENV];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${OVERRIDES_ENV} is not valid JSON: ${raw.slice(0, 80)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${OVERRIDES_ENV} must be a JSON object of hyperparameters`);
  }
  return validateHyperparameters(parsed as Record<string, unknown>, 'parameter');
}

/** The values in force and where each came from. */
export interface HyperparameterSet {
  values: Readonly<Hyperparameters>;
  /** Names whose value came from the command line rather than the notebook. */
  overridden: HyperparameterName[];
}

/**
 * Merges the seed's defaults, the notebook's own values and any command-line overrides (last
 * wins) and validates the result, so a typo stops the notebook before any training.
 */
export function hyperparameters(values: Partial<Hyperparameters> = {}, env: NodeJS.ProcessEnv = process.env): HyperparameterSet {
  validateHyperparameters(values as Record<string, unknown>);
  const overrides = overridesFromEnv(env);
  const merged = { ...DEFAULT_HYPERPARAMETERS, ...values, ...overrides };
  validateHyperparameters(merged as unknown as Record<string, unknown>);
  const set: HyperparameterSet = {
    values: Object.freeze({ ...merged, convFilters: [...merged.convFilters] }),
    overridden: Object.keys(overrides) as HyperparameterName[],
  };
  // For the teaching site's index (facts.ts): the values this run actually uses.
  recordFact({ kind: 'hyperparameters', values: { ...set.values }, overridden: set.overridden }, env);
  return set;
}

/** Rows for a table of the values in force: name, value, and whether it was overridden. */
export function describeHyperparameters(set: HyperparameterSet): Array<{ name: string; value: string; source: string }> {
  return HYPERPARAMETER_NAMES.map((name) => ({
    name,
    value: Array.isArray(set.values[name]) ? (set.values[name] as number[]).join(', ') : String(set.values[name]),
    source: set.overridden.includes(name) ? 'command line' : 'notebook',
  }));
}
