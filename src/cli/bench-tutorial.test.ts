import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectedRoundSeconds, summarizeTutorial, tutorialTable, type TutorialRound } from './bench-tutorial';

const round = (notebook: number, script: number, kernel: number, bare: number, keras: number, kernelCpu = 2 * kernel, bareCpu = 2 * bare): TutorialRound => ({
  notebook_s: notebook,
  keras_script_s: script,
  kernel_epoch_s: kernel,
  bare_epoch_s: bare,
  keras_epoch_s: keras,
  kernel_epoch_cpu_s: kernelCpu,
  bare_epoch_cpu_s: bareCpu,
});

test('summarizeTutorial takes each figure\'s median over the rounds, then the ratios of the medians', () => {
  const s = summarizeTutorial([round(150, 200, 9, 8, 12), round(170, 180, 10, 9, 11), round(160, 190, 20, 10, 13)]);
  assert.equal(s.notebook_s, 160);
  assert.equal(s.keras_script_s, 190);
  assert.equal(s.tutorial_ratio, +(160 / 190).toFixed(3));
  assert.equal(s.kernel_epoch_s, 10);
  assert.equal(s.bare_epoch_s, 9);
  assert.equal(s.kernel_overhead, +(10 / 9 - 1).toFixed(3));
  assert.equal(s.keras_epoch_s, 12);
  assert.equal(s.epoch_ratio, 0.75);
});

test('summarizeTutorial reports the CPU time of the two epochs beside their wall time', () => {
  const s = summarizeTutorial([round(1, 1, 10, 10, 1, 21, 20), round(1, 1, 10, 10, 1, 22, 20), round(1, 1, 10, 10, 1, 30, 19)]);
  assert.equal(s.kernel_epoch_cpu_s, 22);
  assert.equal(s.bare_epoch_cpu_s, 20);
  assert.equal(s.kernel_cpu_overhead, 0.1);
});

test('summarizeTutorial with an even number of rounds averages the middle two', () => {
  const s = summarizeTutorial([round(100, 200, 4, 4, 8), round(120, 220, 6, 6, 10)]);
  assert.equal(s.notebook_s, 110);
  assert.equal(s.keras_script_s, 210);
  assert.equal(s.epoch_ratio, 0.556);
});

test('summarizeTutorial refuses an empty list', () => {
  assert.throws(() => summarizeTutorial([]), /no rounds/);
});

test('the table shows the three comparisons with their ratios', () => {
  const lines = tutorialTable(summarizeTutorial([round(150, 200, 10.5, 10, 20)]), 'vgg7', 'on-the-fly');
  assert.equal(lines.length, 5);
  assert.match(lines[1], /notebook 01 end to end.*150\.0.*200\.0 \(Keras script\).*0\.75$/);
  assert.match(lines[2], /vgg7, on-the-fly.*10\.50.*10\.00 \(bare fit\).*1\.05$/);
  assert.match(lines[3], /CPU.*21\.00.*20\.00 \(bare fit\).*1\.05$/);
  assert.match(lines[4], /10\.00.*20\.00 \(Keras\).*0\.50$/);
});

test('the expected duration grows with epochs, training images and the model', () => {
  const base = expectedRoundSeconds(1, 6000, 'seed');
  assert.ok(expectedRoundSeconds(15, 6000, 'seed') > base);
  assert.ok(expectedRoundSeconds(1, 60000, 'seed') > base);
  assert.ok(expectedRoundSeconds(1, 6000, 'vgg7') > base);
});
