import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './paths';
import { ConfigError, DEFAULT_HYPERPARAMETERS, hyperparameters, kebabCase, parseCommandLine } from './config';

test('defaults are the seed tutorial values', () => {
  const { values, overridden } = hyperparameters({}, {});
  assert.equal(values.epochs, 15);
  assert.equal(values.batchSize, 32);
  assert.equal(values.validationSplit, 0.25);
  assert.deepEqual(values.convFilters, [32, 64, 128]);
  assert.deepEqual(overridden, []);
});

test('notebook 02 knobs default to the book: VGG-7 for 25 epochs, 30,000 augmented copies', () => {
  const { values } = hyperparameters({}, {});
  assert.equal(values.vggEpochs, 25);
  assert.equal(values.augmentExtra, 30000);
  assert.deepEqual(parseCommandLine(['--vgg-epochs', '2', '--augment-extra', '0']).overrides, { vggEpochs: 2, augmentExtra: 0 });
  assert.throws(() => parseCommandLine(['--augment-extra', '-1']), /augmentExtra must be an integer from 0 to 300000/);
  assert.throws(() => parseCommandLine(['--vgg-epochs', '0']), /vggEpochs must be an integer from 1/);
});

test('command-line overrides win over the notebook values and are reported', () => {
  const env = { FMNIST_OVERRIDES: JSON.stringify({ epochs: 3, batchSize: 64 }) };
  const { values, overridden } = hyperparameters({ epochs: 15, trainSamples: 6000 }, env);
  assert.equal(values.epochs, 3);
  assert.equal(values.batchSize, 64);
  assert.equal(values.trainSamples, 6000);
  assert.deepEqual(overridden.sort(), ['batchSize', 'epochs']);
});

test('parseCommandLine reads kebab-case names, both --x v and --x=v, lists and booleans', () => {
  const { positional, overrides } = parseCommandLine([
    'notebooks/01.ipynb', '--epochs', '3', '--batch-size=64', '--train-samples', '6000',
    '--conv-filters', '16,32,64', '--horizontal-flip', 'false',
  ]);
  assert.deepEqual(positional, ['notebooks/01.ipynb']);
  assert.deepEqual(overrides, { epochs: 3, batchSize: 64, trainSamples: 6000, convFilters: [16, 32, 64], horizontalFlip: false });
});

const bad: Array<[string[], RegExp]> = [
  [['--epochs', '0'], /epochs must be an integer from 1/],
  [['--epochs', '2.5'], /epochs must be an integer/],
  [['--epochs', 'three'], /--epochs must be a number, got 'three'/],
  [['--batch-size', '0'], /batchSize must be an integer from 1/],
  [['--validation-split', '1'], /validationSplit must be a number in \(0, 1\)/],
  [['--validation-split', '0'], /validationSplit must be a number in \(0, 1\)/],
  [['--train-samples', '60001'], /trainSamples must be an integer from 1 to 60000/],
  [['--learning-rate', '-1'], /learningRate must be a number in \(0, 10\]/],
  [['--horizontal-flip', 'yes'], /--horizontal-flip must be true or false/],
  [['--conv-filters', '32,64'], /convFilters must be three integers/],
  [['--epoch', '3'], /unknown parameter --epoch/],
  [['--epochs'], /--epochs needs a value/],
  [['--epochs', '1', '--epochs', '2'], /given twice/],
  [['--train-samples', '3', '--validation-split', '0.25'], /leaves no image for validation/],
];
for (const [argv, message] of bad) {
  test(`rejects ${argv.join(' ')}`, () => {
    assert.throws(() => parseCommandLine(argv), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  });
}

test('notebook values are validated too, naming the parameter', () => {
  assert.throws(() => hyperparameters({ epochs: -1 }, {}), /hyperparameter epochs must be an integer/);
  assert.throws(() => hyperparameters({ dropoutRate: 'x' as unknown as number }, {}), /dropoutRate must be a number/);
  assert.throws(() => hyperparameters({}, { FMNIST_OVERRIDES: '{oops' }), /FMNIST_OVERRIDES is not valid JSON/);
});

test('every default passes its own check and has a kebab-case flag', () => {
  assert.doesNotThrow(() => hyperparameters({ ...DEFAULT_HYPERPARAMETERS, convFilters: [32, 64, 128] }, {}));
  assert.equal(kebabCase('heightShiftRange'), 'height-shift-range');
});

/**
 * The literal object a notebook passes to `fm.hyperparameters({...})`, evaluated. The cell is a plain
 * object of numbers, booleans and arrays with `//` comments, so stripping the comments leaves a
 * JavaScript expression.
 */
function notebookHyperparameters(notebook: string): Record<string, unknown> {
  const nb = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'notebooks', notebook), 'utf8')) as { cells: { source: string[] | string }[] };
  const sources = nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
  const cell = sources.find((s) => s.includes('fm.hyperparameters({'));
  assert.ok(cell, `${notebook} has a hyperparameter cell`);
  const literal = /fm\.hyperparameters\((\{[\s\S]*?\})\);/.exec(cell)?.[1];
  assert.ok(literal, `${notebook}: the cell calls fm.hyperparameters with one object literal`);
  const code = literal.replace(/\/\/.*$/gm, '');
  return new Function(`return (${code});`)() as Record<string, unknown>;
}

test("the notebooks' hyperparameter cells state the defaults, so full-run and export runs are the notebooks' runs", () => {
  // npm run full-run trains with DEFAULT_HYPERPARAMETERS and notebook 02 looks its models up by a
  // hash of its own cell's values: if the two drift apart, the notebook silently retrains for hours.
  for (const notebook of ['01-fashion-mnist-convnet.ipynb', '02-beyond-the-seed.ipynb']) {
    const values = notebookHyperparameters(notebook);
    for (const [name, value] of Object.entries(values)) {
      assert.ok(name in DEFAULT_HYPERPARAMETERS, `${notebook}: '${name}' is a hyperparameter`);
      assert.deepEqual(value, DEFAULT_HYPERPARAMETERS[name as keyof typeof DEFAULT_HYPERPARAMETERS], `${notebook}: ${name}`);
    }
  }
  const nb02 = notebookHyperparameters('02-beyond-the-seed.ipynb');
  for (const name of ['epochs', 'vggEpochs', 'augmentExtra', 'seed', 'trainSamples', 'validationSplit', 'batchSize']) {
    assert.ok(name in nb02, `notebook 02 states ${name}`);
  }
});
