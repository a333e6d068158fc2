/**
 * Integration: notebook 02 runs headless through Jupyter on a few hundred images for one epoch,
 * with its models kept in a fresh temporary folder, and the exported page holds real results.
 * Every training cell must train here: a run kept from earlier cannot satisfy this test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LOGS_DIR_ENV, projectRoot } from '../src/core/paths';
import { loadFashionMnist } from '../src/data/load';
import { MODELS_DIR_ENV } from '../src/runs/persist';

const ROOT = projectRoot();
const EXPORT = path.join(ROOT, 'dist', 'cli', 'export.js');
const NOTEBOOK = 'notebooks/02-beyond-the-seed.ipynb';
const TEST_SAMPLES = 400;
const RUNS = ['case1', 'case2', 'vgg7', 'vgg7-augmented', 'vgg7-on-the-fly', 'case2-early-stopping'];

/** The text of the exported page without tags, for matching printed lines. */
function pageText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&');
}

function listing(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

test('02-beyond-the-seed: every section on 600 images for 1 epoch, every model trained and kept', { timeout: 8 * 60_000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-nb02-'));
  const models = path.join(tmp, 'models');
  const logs = path.join(tmp, 'logs');
  const projectModels = path.join(ROOT, 'models');
  const projectBefore = listing(projectModels);
  const projectLogsBefore = listing(path.join(ROOT, 'logs'));
  const out = path.join(tmp, '02.html');
  const args = ['--train-samples', '600', '--test-samples', String(TEST_SAMPLES), '--epochs', '1', '--vgg-epochs', '1', '--augment-extra', '200'];
  const r = spawnSync(process.execPath, [EXPORT, NOTEBOOK, ...args, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 7 * 60_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', [MODELS_DIR_ENV]: models, [LOGS_DIR_ENV]: logs },
  });
  assert.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(out, 'utf8');
  const text = pageText(html);

  // The folder is the temporary one and starts empty, so nothing could be loaded.
  assert.match(text, new RegExp(`models folder: ${models.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(text, /no kept models yet/);
  assert.doesNotMatch(text, /Loaded /);
  assert.deepEqual(listing(projectModels), projectBefore, "the project's own models/ is left alone");

  // The three architectures, by their parameter counts.
  for (const count of ['241,546', '3,989,642', '5,240,842']) assert.match(text, new RegExp(`Total params: ${count}`));

  // Every run trained now, was kept, and reports a finite test loss and accuracy.
  for (const name of RUNS) {
    assert.match(text, new RegExp(`Trained and kept in ${models}/${name}-[0-9a-f]{12}`), `${name} was trained and kept`);
    const m = new RegExp(`\\n${name}: test loss ([^,]+), test accuracy (\\S+)`).exec(text);
    assert.ok(m, `${name} printed its test result`);
    const [loss, acc] = [Number(m[1]), Number(m[2])];
    assert.ok(Number.isFinite(loss) && loss > 0, `${name} test loss ${m[1]}`);
    assert.ok(acc >= 0 && acc <= 1, `${name} test accuracy ${m[2]}`);
  }
  const kept = listing(models);
  assert.equal(kept.length, RUNS.length, kept.join(', '));
  for (const folder of kept) {
    for (const file of ['model.json', 'weights.bin', 'meta.json']) assert.ok(fs.existsSync(path.join(models, folder, file)), `${folder}/${file}`);
    const meta = JSON.parse(fs.readFileSync(path.join(models, folder, 'meta.json'), 'utf8')) as { history: { loss: number[] }; metrics: { testSamples: number } };
    assert.equal(meta.history.loss.length, 1);
    assert.equal(meta.metrics.testSamples, TEST_SAMPLES);
  }

  // Early stopping: one epoch cannot stop early; the TensorBoard callback wrote both parts of its run.
  assert.match(text, /case2-early-stopping \(trained\): 1 of 1 epochs; weights of epoch 1, val_loss \d/);
  for (const part of ['train', 'validation']) {
    assert.ok(listing(path.join(logs, 'case2-early-stopping', part)).some((f) => f.startsWith('events.out.tfevents.')), `${part} events`);
  }
  assert.deepEqual(listing(path.join(ROOT, 'logs')), projectLogsBefore, "the project's own logs/ is left alone");

  // The augmented set: 600 + 200 images, validation the last 150 originals.
  assert.match(text, /800 images: 650 train \(200 of them augmented\), the last 150 validate \(0 augmented\)/);

  // The confusion matrix's rows sum to the class counts of the test images used.
  const data = await loadFashionMnist({ quiet: true });
  const counts = new Array<number>(10).fill(0);
  for (const label of data.test.labels.subarray(0, TEST_SAMPLES)) counts[label]++;
  const sums = /row sums: \[([\d, ]+)\]/.exec(text);
  assert.ok(sums, 'the row sums are printed');
  assert.deepEqual(sums[1].split(', ').map(Number), counts);

  // Reproducibility: the toy setting trained twice and compared.
  assert.match(text, /two trainings, same seed: identical bit for bit: (true|false); largest weight difference [\d.e-]+ over 241,546 weights/);

  // Figures: six live training charts, case 1 vs 2, augmented copies, the VGG-7 comparison,
  // confusion matrix, mistakes gallery, probability bars.
  assert.equal((html.match(/class="fmnist-figure"/g) ?? []).length, 12);
  for (const title of ['case 1 대 case 2', '보강 이미지 / augmented copies', 'VGG-7: 보강 없음', '혼동 행렬 / Confusion matrix', '가장 확신한 오답', '예측 확률 / predicted probabilities']) {
    assert.ok(html.includes(title), `figure "${title}" is on the page`);
  }
  assert.equal(html.split('plotly.js v').length - 1, 1, 'plotly.js is inlined once');
  assert.match(text, /tensors still alive: 0/);
  fs.rmSync(tmp, { recursive: true, force: true });
});
