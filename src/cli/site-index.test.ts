import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { projectRoot } from '../core/paths';
import { notebookIntro, summariseFacts, type ExportRecord } from './export-notebook';
import { indexHtml, inlineMarkdown } from './site-index';

test('each notebook has a title and a Korean and an English description', () => {
  for (const name of ['00-setup-check', '01-fashion-mnist-convnet', '02-beyond-the-seed']) {
    const intro = notebookIntro(path.join(projectRoot(), 'notebooks', `${name}.ipynb`));
    assert.match(intro.title, new RegExp(`^${name.slice(0, 2)} · `));
    assert.match(intro.description.ko, /[가-힣]/, `${name}: Korean`);
    assert.match(intro.description.en, /^This notebook|^Notebook 01/, `${name}: English`);
    assert.doesNotMatch(intro.description.en, /^\*|\*$/);
  }
});

test('a notebook without a heading is titled by its file name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-intro-'));
  try {
    const file = path.join(dir, 'scratch.ipynb');
    fs.writeFileSync(file, JSON.stringify({ cells: [{ cell_type: 'code', source: ['1'] }] }));
    assert.deepEqual(notebookIntro(file), { title: 'scratch', description: { ko: '', en: '' } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('summariseFacts: the last backend and hyperparameters, the last evaluation of each model in first-seen order', () => {
  const ev = (modelId: number, model: string, loss: number) => ({ kind: 'evaluation' as const, model, modelId, params: 10, loss, accuracy: 0.5, testImages: 7 });
  const s = summariseFacts([
    { kind: 'backend', description: 'b1' },
    { kind: 'hyperparameters', values: { epochs: 2 }, overridden: ['epochs'] },
    ev(1, 'seed_convnet', 0.9), ev(1, 'seed_convnet', 0.8), ev(2, 'vgg7', 0.7), ev(3, 'vgg7', 0.6), ev(2, 'vgg7', 0.5),
    { ...ev(4, 'vgg7', 0.4), run: 'vgg7-augmented' },
  ]);
  assert.equal(s.backend, 'b1');
  assert.deepEqual(s.hyperparameters, { values: { epochs: 2 }, overridden: ['epochs'] });
  assert.deepEqual(s.results.map((r) => [r.model, r.loss]), [['seed_convnet', 0.8], ['vgg7', 0.5], ['vgg7 #2', 0.6], ['vgg7-augmented', 0.4]]);
  assert.deepEqual(summariseFacts([]), { backend: null, hyperparameters: null, results: [] });
});

test('the index: escaped, self-contained, one section per record with its facts', () => {
  const record: ExportRecord = {
    notebook: '01-x.ipynb', html: '01-x.html', title: '01 · <Title>', description: { ko: '`fm` **굵게**', en: 'An *en* line' },
    started: '2026-01-02T03:04:05.000Z', finished: '2026-01-02T03:05:05.000Z', wallSeconds: 60,
    machine: { hostname: 'host', cpu: 'CPU', cores: 2, platform: 'Linux', node: '24' },
    backend: 'TensorFlow.js 4.22.0 · backend tensorflow',
    hyperparameters: { values: { ...DEFAULT_HYPERPARAMETERS, epochs: 1 }, overridden: ['epochs'] },
    results: [{ model: 'seed_convnet', params: 241546, testImages: 500, loss: 0.123456, accuracy: 0.87654 }],
  };
  const html = indexHtml([record], { epochs: 1 }, new Date('2026-01-02T04:00:00Z'));
  assert.match(html, /<h2><a href="01-x\.html">01 · &#60;Title&#62;<\/a><\/h2>/);
  assert.match(html, /<code>fm<\/code> <strong>굵게<\/strong>/);
  assert.match(html, /data-fact="loss">0\.1235</);
  assert.match(html, /data-fact="accuracy">0\.8765</);
  assert.match(html, /241,546/);
  assert.match(html, /2026-01-02 03:04:05 UTC – 2026-01-02 03:05:05 UTC \(60 s/);
  assert.match(html, /<td style="text-align:left">epochs<\/td><td style="text-align:left">1<\/td><td style="text-align:left">command line<\/td>/);
  assert.doesNotMatch(html, /<script|\ssrc=|url\(|https?:/);
  assert.equal(inlineMarkdown('<b>*x*</b>'), '&#60;b&#62;<em>x</em>&#60;/b&#62;');
});
