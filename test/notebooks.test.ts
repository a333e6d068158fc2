/**
 * Integration: every notebook runs headless through Jupyter (nbclient + the project's tslab
 * kernel) via `npm run export`'s entry point, and the exported HTML holds real results.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { TAG_ENV, tagged } from './support';

const ROOT = projectRoot();
const EXPORT = path.join(ROOT, 'dist', 'cli', 'export.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-nb-'));

/**
 * Runs `npm run export`'s entry point, tagged so that whatever it started (Python, the kernel)
 * can be found afterwards, also while other sessions run kernels of their own.
 */
function exportNotebook(notebook: string, args: string[], out: string) {
  const tag = randomBytes(8).toString('hex');
  const result = spawnSync(process.execPath, [EXPORT, notebook, ...args, '--out', out], {
    cwd: ROOT, encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', INIT_CWD: ROOT, [TAG_ENV]: tag },
  });
  return { ...result, leftovers: tagged(tag) };
}

/** The text of the exported page without tags, for matching printed lines. */
function pageText(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

function countBundles(html: string): number {
  // The plotly.js bundle announces itself in its licence header once per copy.
  return html.split('plotly.js v').length - 1;
}

test('00-setup-check: backend, data and the first image', { timeout: 5 * 60_000 }, () => {
  const out = path.join(tmp, '00.html');
  const r = exportNotebook('notebooks/00-setup-check.ipynb', [], out);
  assert.equal(r.status, 0, r.stderr);
  const html = fs.readFileSync(out, 'utf8');
  const text = pageText(html);
  assert.match(text, /backend tensorflow · libtensorflow \d+\.\d+/);
  assert.match(text, /train: 60000 images, test: 10000 images/);
  assert.match(text, /label: 9 부츠 \(Ankle boot\)/);
  assert.equal((html.match(/class="fmnist-figure"/g) ?? []).length, 1);
  assert.equal(countBundles(html), 1);
  assert.deepEqual(r.leftovers, [], 'the kernel and the runner are gone');
});

test('01-fashion-mnist-convnet: the whole tutorial on 6,000 images for 1 epoch', { timeout: 10 * 60_000 }, () => {
  const out = path.join(tmp, '01.html');
  const r = exportNotebook('notebooks/01-fashion-mnist-convnet.ipynb', ['--epochs', '1', '--train-samples', '6000', '--batch-size', '64'], out);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.leftovers, []);
  const html = fs.readFileSync(out, 'utf8');
  const text = pageText(html);
  // The values used are stated, overrides marked as such.
  assert.match(text, /epochs\s*1\s*command line/);
  assert.match(text, /batchSize\s*64\s*command line/);
  assert.match(text, /trainSamples\s*6000\s*command line/);
  // The seed's printed shapes, for the 6,000 images used.
  assert.match(text, /before: \(6000, 28, 28\) \(10000, 28, 28\)/);
  assert.match(text, /after: {2}\(6000, 28, 28, 1\) \(10000, 28, 28, 1\)/);
  assert.match(text, /\[9 0 0 3 0 2 7 2 5 5 0 9 5 5 7 9\]/);
  assert.match(text, /Total params: 241,546/);
  const m = /test loss ([\d.]+), test accuracy ([\d.]+)/.exec(text);
  assert.ok(m, 'the evaluate cell printed its result');
  assert.ok(Number.isFinite(Number(m[1])) && Number(m[1]) > 0);
  assert.ok(Number(m[2]) > 0.5, `test accuracy ${m[2]} should be far above chance (0.1)`);
  // Figures: first image, 4×4 grid, live training chart, loss/accuracy, 10×10 augmentation grid.
  assert.equal((html.match(/class="fmnist-figure"/g) ?? []).length, 5);
  assert.equal(countBundles(html), 1, 'plotly.js is inlined once per notebook');
  assert.doesNotMatch(html, /<script[^>]+src="https?:/, 'no script comes from a CDN');
  assert.match(text, /tensors still alive: \d+/);
});

test('a failing cell makes export fail, naming the cell and the real error', { timeout: 3 * 60_000 }, () => {
  const nb = {
    cells: [
      { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['const ok = 1;'] },
      { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['throw new Error("boom in the second cell");'] },
      { cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['console.log("never")'] },
    ],
    metadata: { kernelspec: { name: 'fmnist-ts', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const file = path.join(tmp, 'failing.ipynb');
  fs.writeFileSync(file, JSON.stringify(nb));
  const out = path.join(tmp, 'failing.html');
  const r = exportNotebook(file, [], out);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cell 2 .*failed/);
  assert.match(r.stderr, /boom in the second cell/);
  assert.equal(fs.existsSync(out), false, 'no report for a failed run');
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')), []);

  const typo = { ...nb, cells: [{ ...nb.cells[0], source: ['const n: number = "not a number";'] }] };
  fs.writeFileSync(file, JSON.stringify(typo));
  const r2 = exportNotebook(file, [], out);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /cell 1 .*failed/);
  assert.match(r2.stderr, /not assignable to type 'number'/);
});

test('bad overrides are refused before any kernel starts', () => {
  for (const [args, message] of [
    [['--epochs', '0'], /^error: --epochs 0: must be an integer from 1/],
    [['--batch-size=0'], /^error: --batch-size=0: must be an integer from 1/],
    [['--validation-split', '1.5'], /^error: --validation-split 1\.5: must be a number in \(0, 1\)/],
    [['--train-samples', '70000'], /^error: --train-samples 70000: must be an integer from 1 to 60000/],
    [['--epohcs', '3'], /^error: --epohcs: unknown option; did you mean --epochs\?/],
  ] as Array<[string[], RegExp]>) {
    const started = Date.now();
    const r = exportNotebook('notebooks/01-fashion-mnist-convnet.ipynb', args, path.join(tmp, 'never.html'));
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.ok(Date.now() - started < 10_000, 'rejected without starting Jupyter');
  }
});
