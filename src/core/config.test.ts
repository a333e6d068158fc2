import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from './paths';
import { DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_NAMES, allowedValues, hyperparameterOfFlag, hyperparameterProblem, hyperparameters, kebabCase, parseHyperparameterValue } from './config';

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
  assert.equal(hyperparameterProblem('augmentExtra', 0), undefined);
  assert.equal(hyperparameterProblem('augmentExtra', -1), 'an integer from 0 to 300000');
  assert.equal(hyperparameterProblem('vggEpochs', 0), 'an integer from 1 to 1000');
});

test('command-line overrides win over the notebook values and are reported', () => {
  const env = { FMNIST_OVERRIDES: JSON.stringify({ epochs: 3, batchSize: 64 }) };
  const { values, overridden } = hyperparameters({ epochs: 15, trainSamples: 6000 }, env);
  assert.equal(values.epochs, 3);
  assert.equal(values.batchSize, 64);
  assert.equal(values.trainSamples, 6000);
  assert.deepEqual(overridden.sort(), ['batchSize', 'epochs']);
});

// The command line itself (flags, errors as typed) is tested with its parser, src/cli/args.test.ts.
test('command-line values convert to the type of the default, flags map to names', () => {
  assert.equal(parseHyperparameterValue('epochs', '3'), 3);
  assert.deepEqual(parseHyperparameterValue('convFilters', '16,32,64'), [16, 32, 64]);
  assert.equal(parseHyperparameterValue('horizontalFlip', 'false'), false);
  assert.throws(() => parseHyperparameterValue('horizontalFlip', 'yes', '--horizontal-flip=yes'), /^ConfigError: --horizontal-flip=yes: must be true or false$/);
  assert.throws(() => parseHyperparameterValue('epochs', 'three', '--epochs three'), /--epochs three: must be a number/);
  assert.equal(hyperparameterOfFlag('batch-size'), 'batchSize');
  assert.equal(hyperparameterOfFlag('batchSize'), undefined, 'only the kebab-case spelling is a flag');
  assert.equal(hyperparameterOfFlag('epoch'), undefined);
  for (const name of HYPERPARAMETER_NAMES) assert.notEqual(allowedValues(name), '', `${name} says what it allows`);
});

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
