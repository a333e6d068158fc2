/**
 * `npm run full-run`: a small real run is kept and found again, and bad arguments end in one line
 * before TensorFlow starts, with nothing written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { MODELS_DIR_ENV, checkKeptRun } from '../src/runs/persist';
import { tempDir } from './support';

const CLI = path.join(projectRoot(), 'dist', 'cli', 'full-run.js');
const SMALL = ['--train-samples', '600', '--test-samples', '200', '--epochs', '1'];

interface FullRunResult {
  model: string;
  augment: string;
  run: string;
  source: 'trained' | 'loaded';
  epochs: number;
  trainImages: number;
  testSamples: number;
  threads: number | null;
  params: number;
  testLoss: number;
  testAcc: number;
  keptIn: string;
}

function fullRun(args: string[], modelsDir: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', [MODELS_DIR_ENV]: modelsDir },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON object the command prints last (after the banner and the epoch lines). */
function resultOf(stdout: string): FullRunResult {
  const start = stdout.lastIndexOf('\n{');
  assert.ok(start !== -1, `a JSON result in:\n${stdout}`);
  return JSON.parse(stdout.slice(start + 1)) as FullRunResult;
}

/** A models folder that does not exist yet, inside a temporary folder removed after the test. */
const tempModels = (t: TestContext) => path.join(tempDir(t, 'fmnist-full-run-'), 'models');

test('full-run trains, keeps the run, and a second call loads it with the same test result', { timeout: 240_000 }, (t) => {
  const models = tempModels(t);
  const first = fullRun(['--model', 'case1', '--threads', '1', ...SMALL], models);
  assert.equal(first.code, 0, first.stderr);
  const a = resultOf(first.stdout);
  assert.equal(a.source, 'trained');
  assert.equal(a.params, 241546);
  assert.equal(a.epochs, 1);
  assert.equal(a.trainImages, 600);
  assert.equal(a.testSamples, 200);
  assert.equal(a.threads, 1);
  assert.ok(Number.isFinite(a.testLoss) && a.testLoss > 0, `test loss ${a.testLoss}`);
  assert.ok(a.testAcc >= 0 && a.testAcc <= 1, `test accuracy ${a.testAcc}`);
  assert.equal(path.dirname(a.keptIn), models);
  for (const file of ['model.json', 'weights.bin', 'meta.json']) assert.ok(fs.existsSync(path.join(a.keptIn, file)), file);

  const second = fullRun(['--model', 'case1', ...SMALL], models);
  assert.equal(second.code, 0, second.stderr);
  const b = resultOf(second.stdout);
  assert.equal(b.source, 'loaded');
  assert.equal(b.keptIn, a.keptIn);
  assert.equal(b.testAcc, a.testAcc);
  assert.equal(b.threads, null);
  assert.deepEqual(fs.readdirSync(models), [path.basename(a.keptIn)]);
});

test('full-run: a bad argument is one line naming it, exit 1, nothing written', (t) => {
  const models = tempModels(t);
  const cases: [string[], RegExp][] = [
    [['--augment', 'none'], /^error: --model is required \(npm run full-run -- --help\)$/],
    [['--model', 'vgg8'], /^error: --model vgg8: must be one of case1, case2, vgg7$/],
    [['--model=vgg8'], /^error: --model=vgg8: must be one of case1, case2, vgg7$/],
    [['--model', 'vgg7', '--augment', 'sometimes'], /^error: --augment sometimes: must be one of none, book, training-part, on-the-fly$/],
    [['--model', 'vgg7', '--threads=0'], /^error: --threads=0: must be an integer from 1 to 256$/],
    [['--model', 'vgg7', '--threads'], /^error: --threads: needs a value$/],
    [['--model', 'vgg7', '--vgg-epochs', '-2'], /^error: --vgg-epochs -2: must be an integer from 1 to 1000$/],
    [['--model', 'vgg7', '--retrain=yes'], /^error: --retrain=yes: takes no value/],
    [['--model', 'vgg7', '--thread=1'], /^error: --thread=1: unknown option; did you mean --threads\?/],
    [['--model', 'vgg7', 'extra'], /^error: extra: unexpected argument \(npm run full-run -- --help\)$/],
  ];
  for (const [args, message] of cases) {
    const r = fullRun(args, models);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got:\n${r.stderr}`);
    assert.match(lines[0], message, args.join(' '));
    assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout (TensorFlow never started)`);
  }
  assert.equal(fs.existsSync(models), false, 'no models folder was made');
});

test('full-run: a truncated weights.bin in a kept run is one line, then trained again and kept whole', { timeout: 240_000 }, (t) => {
  const models = tempModels(t);
  const first = fullRun(['--model', 'case1', '--threads', '1', ...SMALL], models);
  assert.equal(first.code, 0, first.stderr);
  const { keptIn } = resultOf(first.stdout);
  const weights = path.join(keptIn, 'weights.bin');
  const size = fs.statSync(weights).size;
  // What a full disk or a copy cut short leaves; tfjs alone would stop with a stack trace on every later run.
  fs.truncateSync(weights, 6184 * 4);
  const second = fullRun(['--model', 'case1', '--threads', '1', ...SMALL], models);
  assert.equal(second.code, 0, second.stderr);
  const damageLines = second.stderr.split('\n').filter((l) => l.includes(keptIn) && !l.includes('Trained and kept'));
  assert.deepEqual(damageLines, [`[full-run] ${keptIn}: weights.bin is truncated (${6184 * 4} of ${size} bytes); training again`]);
  assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace');
  const b = resultOf(second.stdout);
  assert.equal(b.source, 'trained');
  assert.equal(b.keptIn, keptIn);
  assert.equal(checkKeptRun(keptIn).ok, true);
  assert.deepEqual(fs.readdirSync(models), [path.basename(keptIn)], 'nothing else is left in the models folder');
});
