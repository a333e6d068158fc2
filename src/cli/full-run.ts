/**
 * `node dist/cli/full-run.js --model vgg7 --epochs 25 [--augment none|book|training-part|on-the-fly]
 * [--train-samples 2000 …]`: one of notebook 02's trainings on the full data, outside Jupyter,
 * for the long runs (hours on a 2-core machine). It prints one JSON object with the test loss and
 * accuracy and the wall time. The run is kept in models/ exactly as notebook 02 keeps it, so a
 * notebook run with the same hyperparameters afterwards loads it instead of training.
 *
 * --model chooses case1 (the seed's model), case2 or vgg7; --epochs defaults to the notebook's
 * (15 for case1/case2, vggEpochs for vgg7). --augment applies to any model; 'training-part' is
 * notebook 02's placement of the augmented copies and 'book' the book's own (see persist.ts).
 * --threads N sizes TensorFlow's thread pools (TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS)
 * before the library loads. On a 2-core machine two runs side by side with `--threads 1` each
 * finished sooner than the same two runs one after the other at the default, because one run does
 * not keep both cores busy (docs/performance.md). Every other flag is a hyperparameter, as for
 * `npm run export`.
 */
import { parseCommandLine } from '../core/config';
import { printBanner, runMain } from './common';

const MODELS = ['case1', 'case2', 'vgg7'] as const;
const AUGMENT = ['none', 'book', 'training-part', 'on-the-fly'] as const;
type ModelName = (typeof MODELS)[number];
type AugmentMode = (typeof AUGMENT)[number];
const USAGE = `usage: node dist/cli/full-run.js --model ${MODELS.join('|')} [--augment ${AUGMENT.join('|')}] [--threads N] [--retrain] [--hyperparameter value …]`;

/** Takes `--name value` out of argv (it is this command's own option, not a hyperparameter). */
function takeOption(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  if (at === -1) return undefined;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value; ${USAGE}`);
  argv.splice(at, 2);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${what} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

runMain(async () => {
  const argv = process.argv.slice(2);
  const modelArg = takeOption(argv, 'model');
  if (modelArg === undefined) throw new Error(`--model is required; ${USAGE}`);
  const model: ModelName = oneOf(modelArg, MODELS, '--model');
  const augment: AugmentMode = oneOf(takeOption(argv, 'augment') ?? 'none', AUGMENT, '--augment');
  const threadsArg = takeOption(argv, 'threads');
  const threads = threadsArg === undefined ? undefined : Number(threadsArg);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
    throw new Error(`--threads must be an integer from 1 to 256, got '${threadsArg}'`);
  }
  const retrainAt = argv.indexOf('--retrain');
  const retrain = retrainAt !== -1;
  if (retrain) argv.splice(retrainAt, 1);
  const { positional, overrides } = parseCommandLine(argv);
  if (positional.length) throw new Error(`unexpected argument '${positional[0]}'; ${USAGE}`);
  if (threads !== undefined) {
    // TensorFlow reads these once, when it makes its thread pools, so they must be set before the
    // native library loads (the import below).
    process.env.TF_NUM_INTRAOP_THREADS = String(threads);
    process.env.TF_NUM_INTEROP_THREADS = String(threads);
  }
  printBanner('full-run');
  const fm = await import('../index');
  const { tf } = fm;
  // The notebook's defaults, then the command line; FMNIST_OVERRIDES is not read here.
  const hp = fm.hyperparameters({ ...overrides }, {}).values;
  const epochs = overrides.epochs ?? (model === 'vgg7' ? hp.vggEpochs : hp.epochs);

  const started = performance.now();
  const data = await fm.loadFashionMnist({ quiet: true });
  let { trainX, trainY, testX, testY } = fm.toTensors(data, { trainSamples: hp.trainSamples, testSamples: hp.testSamples });
  trainX = fm.reshape(fm.normalize(trainX), [-1, ...fm.INPUT_SHAPE]);
  testX = fm.reshape(fm.normalize(testX), [-1, ...fm.INPUT_SHAPE]);

  const build = (): import('../core/backend').tf.LayersModel =>
    model === 'case1'
      ? fm.buildSeedModel({ convFilters: hp.convFilters, denseUnits: hp.denseUnits, dropoutRate: hp.dropoutRate, seed: hp.seed })
      : model === 'case2'
        ? fm.buildCase2Model({ seed: hp.seed })
        : fm.buildVgg7Model({ seed: hp.seed });
  const augmented =
    augment === 'book' || augment === 'training-part'
      ? fm.withAugmentedCopies(trainX, trainY, {
          extra: hp.augmentExtra,
          augment: fm.augmentOptionsFrom(hp),
          seed: hp.seed,
          validationSplit: hp.validationSplit,
          placement: augment,
        })
      : null;
  // The same names as notebook 02, so that its cells find these runs.
  const suffix: Record<AugmentMode, string> = { none: '', 'training-part': '-augmented', book: '-augmented-book', 'on-the-fly': '-on-the-fly' };
  const runName = `${model}${suffix[augment]}`;

  const kept = await fm.fitOrLoad({
    name: runName,
    build,
    x: augmented?.x ?? trainX,
    y: augmented?.y ?? trainY,
    validationSplit: augmented?.validationSplit,
    augment: augment === 'on-the-fly' ? fm.augmentOptionsFrom(hp) : undefined,
    hp,
    epochs,
    test: { x: testX, y: testY },
    callbacks: fm.trainingMonitor({ verbose: hp.verbose === 1 ? 2 : hp.verbose, chart: false }),
    retrain,
    log: (line) => console.error(`[full-run] ${line}`),
  });
  const result = {
    model,
    augment,
    run: runName,
    source: kept.source,
    epochs: kept.history.loss.length,
    trainSamples: hp.trainSamples,
    trainImages: (augmented?.x ?? trainX).shape[0],
    testSamples: hp.testSamples,
    threads: threads ?? null,
    params: kept.model.countParams(),
    testLoss: kept.metrics.testLoss,
    testAcc: kept.metrics.testAcc,
    finalValLoss: kept.history.val_loss.at(-1) ?? null,
    finalValAcc: kept.history.val_acc.at(-1) ?? null,
    trainSeconds: kept.meta?.trainSeconds ?? kept.history.seconds.reduce((a, b) => a + b, 0),
    wallSeconds: (performance.now() - started) / 1000,
    keptIn: kept.dir,
  };
  console.log(JSON.stringify(result, null, 1));
  tf.dispose([trainX, trainY, testX, testY, ...(augmented ? [augmented.x, augmented.y] : [])]);
  kept.model.dispose();
  return 0;
});
