import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_NAMES, kebabCase } from '../core/config';
import { type CommandSpec, type OptionTable, UsageError, parseCommandLine, usage } from './args';

const SPEC = {
  command: 'npm run example',
  summary: 'An example command.',
  hyperparameters: true,
  positionals: { usage: '<notebook.ipynb>', min: 0, max: 1 },
  options: {
    model: { type: 'string', choices: ['case1', 'case2', 'vgg7'], default: 'case1', help: 'which model' },
    threads: { type: 'integer', min: 1, max: 256, help: 'thread pools' },
    rate: { type: 'number', min: 0, max: 1, default: 0.5, help: 'a fraction' },
    out: { type: 'string', value: 'FILE', help: 'where it goes' },
    retrain: { type: 'boolean', help: 'train again' },
  },
} as const satisfies CommandSpec<OptionTable>;

const parse = (argv: string[]) => {
  const parsed = parseCommandLine(SPEC, argv);
  assert.notEqual(parsed, 'help');
  return parsed as Exclude<typeof parsed, 'help'>;
};

test('defaults fill what is not given; booleans are false', () => {
  const { options, positionals, overrides, passOn } = parse([]);
  assert.deepEqual(options, { model: 'case1', threads: undefined, rate: 0.5, out: undefined, retrain: false });
  assert.deepEqual([positionals, overrides, passOn], [[], {}, []]);
});

test('--name value and --name=value both work, for own options and hyperparameters alike', () => {
  const a = parse(['nb.ipynb', '--model', 'vgg7', '--threads=2', '--rate', '0.25', '--out=x.html', '--retrain', '--epochs', '3', '--batch-size=64']);
  assert.deepEqual(a.options, { model: 'vgg7', threads: 2, rate: 0.25, out: 'x.html', retrain: true });
  assert.deepEqual(a.positionals, ['nb.ipynb']);
  assert.deepEqual(a.overrides, { epochs: 3, batchSize: 64 });
  const b = parse(['--conv-filters', '16,32,64', '--horizontal-flip=false', '--', '--not-a-flag.ipynb']);
  assert.deepEqual(b.overrides, { convFilters: [16, 32, 64], horizontalFlip: false });
  assert.deepEqual(b.positionals, ['--not-a-flag.ipynb'], 'after --, everything is positional');
});

test('--help and -h win over everything else, even a bad flag', () => {
  for (const argv of [['--help'], ['-h'], ['--model=vgg8', '-h'], ['--nonsense', '--help']]) assert.equal(parseCommandLine(SPEC, argv), 'help');
  assert.throws(() => parse(['a.ipynb', '--', '--help']), /--help: unexpected argument/, 'after --, --help is a positional');
});

/** Each error is one line that starts with the flag exactly as typed. */
const bad: Array<[string[], string]> = [
  [['--model=vgg8'], '--model=vgg8: must be one of case1, case2, vgg7'],
  [['--model', 'vgg8'], '--model vgg8: must be one of case1, case2, vgg7'],
  [['--threads=x'], '--threads=x: must be an integer from 1 to 256'],
  [['--threads', '1.5'], '--threads 1.5: must be an integer from 1 to 256'],
  [['--threads', '0'], '--threads 0: must be an integer from 1 to 256'],
  [['--rate=2'], '--rate=2: must be a number from 0 to 1'],
  [['--threads'], '--threads: needs a value'],
  [['--threads', '--retrain'], '--threads: needs a value'],
  [['--retrain=no'], '--retrain=no: takes no value (write --retrain alone)'],
  [['--thraeds=1'], '--thraeds=1: unknown option; did you mean --threads? (npm run example -- --help lists them)'],
  [['--zzz'], '--zzz: unknown option (npm run example -- --help lists them)'],
  [['-x'], '-x: unknown option (npm run example -- --help lists them)'],
  [['--model', 'case2', '--model=vgg7'], '--model=vgg7: given twice (also --model case2)'],
  [['a.ipynb', 'b.ipynb'], 'b.ipynb: unexpected argument (npm run example -- --help)'],
  [['--epochs', '0'], '--epochs 0: must be an integer from 1 to 1000'],
  [['--epochs=2.5'], '--epochs=2.5: must be an integer from 1 to 1000'],
  [['--epochs', 'three'], '--epochs three: must be a number'],
  [['--epoch', '3'], '--epoch: unknown option; did you mean --epochs? (npm run example -- --help lists them)'],
  [['--batchSize', '3'], '--batchSize: unknown option; did you mean --batch-size? (npm run example -- --help lists them)'],
  [['--validation-split', '1'], '--validation-split 1: must be a number in (0, 1)'],
  [['--learning-rate=-1'], '--learning-rate=-1: must be a number in (0, 10]'],
  [['--horizontal-flip', 'yes'], '--horizontal-flip yes: must be true or false'],
  [['--conv-filters', '32,64'], '--conv-filters 32,64: must be three integers from 1 to 1024, e.g. 32,64,128'],
  [['--epochs', '1', '--epochs', '2'], '--epochs 2: given twice (also --epochs 1)'],
  [['--train-samples', '3', '--validation-split', '0.25'], 'parameter validationSplit 0.25 of trainSamples 3 leaves no image for validation'],
];
for (const [argv, message] of bad) {
  test(`refuses ${argv.join(' ')}`, () => {
    assert.throws(() => parse(argv), (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.equal(err.message, message);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });
}

test('a required option and a required positional are asked for', () => {
  const spec = { command: 'npm run x', summary: 'x', positionals: { usage: '<a.ipynb>', min: 1, max: 1 }, options: { model: { type: 'string', required: true, help: 'm' } } } as const;
  assert.throws(() => parseCommandLine(spec, ['a.ipynb']), /^UsageError: --model is required \(npm run x -- --help\)$/);
  assert.throws(() => parseCommandLine(spec, ['--model', 'm']), /^UsageError: missing <a\.ipynb> \(usage: npm run x -- <a\.ipynb> --model VALUE \[options\]\)$/);
});

test('unknown flags are passed on as typed where the command says so, with their values', () => {
  const spec = { command: 'npm start', summary: 's', options: {}, passUnknownTo: 'JupyterLab' } as const;
  const parsed = parseCommandLine(spec, ['--ServerApp.x=1', '--ServerApp.y', '2', '--no-browser']);
  assert.notEqual(parsed, 'help');
  assert.deepEqual((parsed as Exclude<typeof parsed, 'help'>).passOn, ['--ServerApp.x=1', '--ServerApp.y', '2', '--no-browser']);
  assert.throws(() => parseCommandLine(spec, ['-x']), /-x: unknown option/, 'a short flag is not guessed at');
});

test('--help is made from the table: every own option, every hyperparameter with its default and range', () => {
  const text = usage(SPEC);
  assert.match(text, /^usage: npm run example -- <notebook\.ipynb> \[options\] \[--hyperparameter value …\]$/m);
  assert.match(text, /^ {2}--model case1\|case2\|vgg7 +which model \(default case1\)$/m);
  assert.match(text, /^ {2}--threads N +thread pools \(1 to 256\)$/m);
  assert.match(text, /^ {2}--out FILE +where it goes$/m);
  assert.match(text, /^ {2}--retrain +train again$/m);
  assert.match(text, /^ {2}-h, --help +print this help and exit$/m);
  for (const name of HYPERPARAMETER_NAMES) {
    const value = DEFAULT_HYPERPARAMETERS[name];
    const shown = Array.isArray(value) ? value.join(',') : String(value);
    assert.match(text, new RegExp(`^ {2}--${kebabCase(name)} ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\S.*\\(.+\\)$`, 'm'), name);
  }
  assert.match(text, /^ {2}--epochs 15 +passes over the training images \(an integer from 1 to 1000\)$/m);
  const plain = usage({ command: 'npm run data', summary: 'd', options: {} });
  assert.doesNotMatch(plain, /hyperparameters/, 'a command without hyperparameters does not list them');
});
