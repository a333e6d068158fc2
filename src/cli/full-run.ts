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
import { modelsDir } from '../core/paths';
import { commandLine } from './args';
import { printBanner, runMain } from './common';
import { checkWritableFolder } from './preflight';

const AUGMENT = ['none', 'book', 'training-part', 'on-the-fly'] as const;
type AugmentMode = (typeof AUGMENT)[number];

export const FULL_RUN_COMMAND = {
  command: 'npm run full-run',
  summary: "One of notebook 02's trainings outside Jupyter, kept in models/ as the notebook keeps it; prints one JSON object with the results.",
  hyperparameters: true,
  options: {
    model: { type: 'string', choices: ['case1', 'case2', 'vgg7'], required: true, help: "which model: the seed's (case1), case2 or VGG-7" },
    augment: { type: 'string', choices: AUGMENT, default: 'none', help: 'augmentation, and where the augmented copies go' },
    threads: { type: 'integer', min: 1, max: 256, help: "TensorFlow's thread pools (default: TensorFlow's own choice)" },
    retrain: { type: 'boolean', help: 'train even when a kept run matches' },
  },
} as const;

runMain(async () => {
  const { options, overrides } = commandLine(FULL_RUN_COMMAND);
  const { model, threads, retrain } = options;
  const augment: AugmentMode = options.augment;
  // The run is kept, so the models folder must take it: checked now rather than after training.
  checkWritableFolder(modelsDir(), 'models folder');
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
