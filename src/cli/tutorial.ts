/**
 * `npm run tutorial [-- --epochs 3 --train-samples 6000 …]`: notebook 01's steps as a plain Node
 * program, the way the seed runs as a Python script. Figures go where `plt.show()` would put
 * them: a browser tab through nodeplotlib where there is a screen, else HTML files under
 * reports/figures/ (FMNIST_PLOTS=files|nodeplotlib chooses). The same hyperparameter names as
 * the notebook, in kebab-case.
 */
import { OVERRIDES_ENV, parseCommandLine } from '../config';
import { printBanner, runMain } from './common';

runMain(async () => {
  const { positional, overrides } = parseCommandLine(process.argv.slice(2));
  if (positional.length) throw new Error(`unexpected argument '${positional[0]}'; usage: npm run tutorial -- [--name value …]`);
  printBanner('tutorial');
  process.env[OVERRIDES_ENV] = JSON.stringify(overrides);
  const fm = await import('../index');
  const { tf } = fm;
  // Ctrl-C ends the program (training included) rather than only the current step.
  process.once('SIGINT', () => {
    console.log('\n[tutorial] interrupted');
    process.exit(130);
  });

  const run = fm.hyperparameters();
  const hp = run.values;
  fm.showHyperparameters(run);

  console.log('\n① load');
  const data = await fm.loadFashionMnist();
  let { trainX, trainY, testX, testY } = fm.toTensors(data, { trainSamples: hp.trainSamples, testSamples: hp.testSamples });
  console.log(`source: ${data.source} (${data.dir})`);
  console.log(fm.shapeOf(trainX), fm.shapeOf(testX));

  console.log('\n② one image');
  const first = trainY.dataSync()[0];
  console.log(`trainY[0] = ${first} → ${fm.labelName(first)}`);
  fm.show(fm.imageFigure(fm.imageAt(trainX, 0), { title: `trainX[0] · ${fm.labelName(first)}` }), { name: 'first-image' });

  console.log('\n③ normalize');
  console.log('before:', fm.valueRange(trainX));
  trainX = fm.normalize(trainX);
  testX = fm.normalize(testX);
  console.log('after: ', fm.valueRange(trainX));

  console.log('\n④ reshape');
  trainX = fm.reshape(trainX, [-1, 28, 28, 1]);
  testX = fm.reshape(testX, [-1, 28, 28, 1]);
  console.log(fm.shapeOf(trainX), fm.shapeOf(testX));

  console.log('\n⑤ the first 16 images');
  const first16 = Array.from(trainY.dataSync().slice(0, 16));
  console.log(`[${first16.join(' ')}]`);
  fm.show(fm.imageGridFigure(fm.imagesAt(trainX, 0, 16), { rows: 4, cols: 4, titles: first16.map((l) => `${l} ${fm.CLASS_NAMES_KO[l]}`) }), { name: 'first-16' });

  console.log('\n⑥ model');
  const model = fm.buildSeedModel({ convFilters: hp.convFilters, denseUnits: hp.denseUnits, dropoutRate: hp.dropoutRate, seed: hp.seed });
  console.log(fm.formatSummary(fm.modelSummary(model)));

  console.log('\n⑦ compile, ⑧ fit');
  model.compile({
    optimizer: tf.train.adam(hp.learningRate, hp.beta1, hp.beta2, hp.epsilon),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const history = fm.fit(model, trainX, trainY, {
    epochs: hp.epochs,
    batchSize: hp.batchSize,
    validationSplit: hp.validationSplit,
    seed: hp.seed,
    callbacks: fm.trainingMonitor({ verbose: hp.verbose, chart: false }),
  });
  await history.done;

  console.log('\n⑨ loss and accuracy');
  fm.show(fm.historyFigure(history.history), { name: 'history' });

  console.log('\n⑩ evaluate');
  const [testLoss, testAcc] = fm.evaluate(model, testX, testY);
  console.log(`test loss ${testLoss.toFixed(4)}, test accuracy ${testAcc.toFixed(4)}`);

  console.log('\n⑪ augmentation');
  const augmented = fm.augmentCopies(fm.imageAt(trainX, 0), hp.augmentCount, { ...fm.augmentOptionsFrom(hp), seed: hp.seed });
  const side = Math.ceil(Math.sqrt(hp.augmentCount));
  fm.show(fm.imageGridFigure(augmented, { rows: Math.ceil(hp.augmentCount / side), cols: side }), { name: 'augmentation' });

  tf.dispose([trainX, trainY, testX, testY]);
  model.optimizer.dispose();
  model.dispose();
  return 0;
});
