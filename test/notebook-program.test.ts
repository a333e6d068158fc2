/**
 * `npm run tutorial` runs notebook 01's own cells (src/cli/notebook-program.ts): the cells share
 * their names and top-level await, a last bare expression is shown, a failing cell is named, and
 * the model notebook 01 writes out in its step ⑥ cell is the very model the commands build.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { runNotebook } from '../src/cli/notebook-program';
import { tempDir } from './support';

const NOTEBOOK_01 = path.join(projectRoot(), 'notebooks', '01-fashion-mnist-convnet.ipynb');

function writeNotebook(dir: string, cells: Array<{ cell_type: string; source: string }>): string {
  const file = path.join(dir, 'x.ipynb');
  fs.writeFileSync(file, JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }));
  return file;
}

/** Runs `body` with console.log captured. */
async function captured(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  try {
    await body();
  } finally {
    console.log = original;
  }
  return lines;
}

test('notebook program: shared names, top-level await, headings, the last expression shown', async (t) => {
  const file = writeNotebook(tempDir(t), [
    { cell_type: 'markdown', source: '## ① first step\nprose that is not printed' },
    { cell_type: 'code', source: 'import path from "node:path";\nconst base: string = path.basename("/a/b.txt");\nlet n = 1;' },
    { cell_type: 'code', source: 'n = await Promise.resolve(n + 41);\n`${base} ${n}`' },
    { cell_type: 'code', source: 'console.log("plain");\nn += 1;' },
  ]);
  const lines = await captured(() => runNotebook(file));
  assert.deepEqual(lines, ['\n① first step', 'b.txt 42', 'plain', '43']);
});

test('notebook program: a failing cell is named with its error', async (t) => {
  const file = writeNotebook(tempDir(t), [
    { cell_type: 'code', source: 'const a = 1;' },
    { cell_type: 'code', source: 'throw new Error(`bad ${a}`);' },
  ]);
  await assert.rejects(() => captured(() => runNotebook(file)), (err: Error) => err.message === `${file}, cell 1: bad 1`);
});

test("notebook 01's model cell builds the commands' model: same layers, names and starting weights", { timeout: 120_000 }, async (t) => {
  const notebook = JSON.parse(fs.readFileSync(NOTEBOOK_01, 'utf8')) as { cells: Array<{ cell_type: string; source: string[] }> };
  const modelCell = notebook.cells.findIndex((c) => c.cell_type === 'code' && c.source.join('').includes('tf.sequential('));
  assert.ok(modelCell > 0, 'notebook 01 writes its model with tf.sequential');
  // Every cell up to the model, on a small part of the data, then a cell that compares.
  const cells = notebook.cells.slice(0, modelCell + 1).map((c) => ({ cell_type: c.cell_type, source: c.source.join('') }));
  cells.push({
    cell_type: 'code',
    source: [
      'const reference = fm.buildSeedModel({ convFilters: hp.convFilters, denseUnits: hp.denseUnits, dropoutRate: hp.dropoutRate, seed: hp.seed });',
      'const same = JSON.stringify(model.toJSON(null, false)) === JSON.stringify(reference.toJSON(null, false));',
      'const a = model.getWeights().map((w) => Array.from(w.dataSync()));',
      'const b = reference.getWeights().map((w) => Array.from(w.dataSync()));',
      'console.log(`topology ${same}, weights ${JSON.stringify(a) === JSON.stringify(b)}, params ${model.countParams()}`);',
      'reference.dispose();',
      'model.dispose();',
      'tf.dispose([trainX, trainY, testX, testY]);',
    ].join('\n'),
  });
  const file = writeNotebook(tempDir(t), cells);
  process.env.FMNIST_OVERRIDES = JSON.stringify({ trainSamples: 200, testSamples: 100 });
  process.env.FMNIST_PLOTS = 'files';
  process.env.FMNIST_FIGURES_DIR = tempDir(t);
  try {
    const lines = await captured(() => runNotebook(file));
    assert.ok(lines.includes('topology true, weights true, params 241546'), lines.slice(-5).join('\n'));
  } finally {
    delete process.env.FMNIST_OVERRIDES;
    delete process.env.FMNIST_PLOTS;
    delete process.env.FMNIST_FIGURES_DIR;
  }
});
