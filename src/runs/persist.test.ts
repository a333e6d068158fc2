import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../core/paths';
import { tf } from '../core/backend';
import { DEFAULT_HYPERPARAMETERS } from '../core/config';
import { buildSeedModel } from '../model/models';
import {
  KEPT_RUN_FORMAT,
  KeptRunError,
  MODELS_DIR_ENV,
  canonicalJson,
  checkKeptRun,
  fitOrLoad,
  listKeptRuns,
  loadOrTrain,
  modelsDir,
  readRunMeta,
  runHash,
  weightsDifference,
  withAugmentedCopies,
  type FitOrLoadSpec,
  type LoadOrTrainSpec,
} from './persist';
import { createRng } from '../core/random';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-persist-'));
let dirCount = 0;
/** A fresh models folder per test, so no test can pass on another's kept run. */
function freshDir(): string {
  return path.join(tmpRoot, `models-${dirCount++}`);
}

/** n images with pixel noise and labels 0..9, the same for the same seed. */
function toyData(n: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = createRng(seed);
  const pixels = Float32Array.from({ length: n * 784 }, () => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { x: tf.tensor4d(pixels, [n, 28, 28, 1]), y: tf.tensor1d(labels, 'int32') };
}

const hp = { ...DEFAULT_HYPERPARAMETERS, epochs: 1, batchSize: 16, convFilters: [2, 2, 2], denseUnits: 8 };

function toySpec(data: { x: tf.Tensor; y: tf.Tensor1D }, dir: string, extra: Partial<FitOrLoadSpec> = {}): FitOrLoadSpec {
  return {
    name: 'toy',
    build: () => buildSeedModel({ convFilters: hp.convFilters, denseUnits: hp.denseUnits, seed: hp.seed }),
    x: data.x,
    y: data.y,
    hp,
    test: data,
    dir,
    log: null,
    ...extra,
  };
}

test('canonicalJson sorts keys at every level and refuses what JSON cannot hold', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[1,{"y":2,"z":0}]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
  assert.throws(() => canonicalJson({ a: NaN }), /value\.a is NaN/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /function/);
  assert.equal(runHash('m', { a: 1, b: 2 }), runHash('m', { b: 2, a: 1 }));
  assert.notEqual(runHash('m', { a: 1 }), runHash('m', { a: 2 }));
  assert.notEqual(runHash('m', { a: 1 }), runHash('n', { a: 1 }));
  assert.match(runHash('m', null), /^[0-9a-f]{12}$/);
});

test('modelsDir is <project>/models unless FMNIST_MODELS_DIR names another folder', () => {
  assert.equal(modelsDir({}), path.join(projectRoot(), 'models'));
  assert.equal(modelsDir({ [MODELS_DIR_ENV]: '/tmp/elsewhere' }), '/tmp/elsewhere');
});

test('round trip: train and keep, then load the same weights, history and metrics without training', async () => {
  const data = toyData(64);
  const dir = freshDir();
  const first = await fitOrLoad(toySpec(data, dir));
  assert.equal(first.source, 'trained');
  assert.ok(first.dir && fs.existsSync(path.join(first.dir, 'model.json')));
  assert.equal(path.basename(first.dir), `toy-${first.hash}`);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temporary folder is left');
  const meta = readRunMeta(first.dir);
  assert.ok(meta);
  assert.equal(meta.architecture, 'seed_convnet');
  assert.equal((meta.hyperparameters as Record<string, unknown>).batchSize, 16);
  assert.ok(Number.isFinite(meta.metrics.testAcc) && meta.metrics.testSamples === 64);
  assert.equal(meta.history.loss.length, 1);

  let trainingsStarted = 0;
  const second = await fitOrLoad(toySpec(data, dir, { callbacks: { onTrainBegin: () => trainingsStarted++ } }));
  assert.equal(second.source, 'loaded');
  assert.equal(trainingsStarted, 0, 'a kept run is not trained again');
  assert.equal(second.hash, first.hash);
  assert.deepEqual(second.history, first.history);
  assert.deepEqual(second.metrics, first.metrics);
  const diff = weightsDifference(first.model, second.model);
  assert.equal(diff.identical, true);
  assert.ok(diff.weights > 0);
  assert.equal(listKeptRuns(dir).length, 1);
  for (const run of [first, second]) run.model.dispose();
  tf.dispose([data.x, data.y]);
});

/** A loadOrTrain spec of a one-layer model that counts its trainings. */
function tinySpec(dir: string, counter: { trainings: number }, extra: Partial<LoadOrTrainSpec> = {}): LoadOrTrainSpec {
  return {
    name: 'tiny',
    architecture: 'tiny',
    settings: { units: 1 },
    dir,
    log: null,
    train: async () => {
      counter.trainings++;
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      return { model, history: { loss: [1], acc: [0.5], val_loss: [NaN], val_acc: [NaN], seconds: [0.1] } };
    },
    ...extra,
  };
}

test('loadOrTrain calls train only when no matching run is kept', async () => {
  const dir = freshDir();
  const counter = { trainings: 0 };
  const spec = tinySpec(dir, counter, { name: 'counted', settings: { epochs: 1 } });
  const a = await loadOrTrain(spec);
  const b = await loadOrTrain(spec);
  assert.equal(counter.trainings, 1);
  assert.ok(Number.isNaN(b.history.val_loss[0]), 'NaN survives meta.json as NaN');
  const c = await loadOrTrain({ ...spec, retrain: true });
  assert.equal(counter.trainings, 2, 'retrain trains even when a run is kept');
  const d = await loadOrTrain({ ...spec, settings: { epochs: 2 } });
  assert.equal(counter.trainings, 3, 'another setting is another run');
  assert.equal(d.source, 'trained');
  assert.equal(fs.readdirSync(dir).length, 2);
  const e = await loadOrTrain({ ...spec, keep: false });
  assert.equal(counter.trainings, 4);
  assert.equal(e.dir, null);
  for (const r of [a, b, c, d, e]) r.model.dispose();
});

test('a changed hyperparameter or changed data trains again; nothing is reused across them', async () => {
  const data = toyData(64);
  const dir = freshDir();
  const base = await fitOrLoad(toySpec(data, dir));
  const otherBatch = await fitOrLoad(toySpec(data, dir, { hp: { ...hp, batchSize: 8 } }));
  const otherEpochs = await fitOrLoad(toySpec(data, dir, { epochs: 2 }));
  const otherModel = await fitOrLoad(toySpec(data, dir, { build: () => buildSeedModel({ convFilters: [2, 2, 3], denseUnits: 8, seed: hp.seed }) }));
  const otherData = toyData(64, 2);
  const otherPixels = await fitOrLoad(toySpec(otherData, dir));
  const augmented = await fitOrLoad(toySpec(data, dir, { augment: { rotationRange: 10 } }));
  const runs = [otherBatch, otherEpochs, otherModel, otherPixels, augmented];
  for (const run of runs) assert.equal(run.source, 'trained');
  assert.equal(new Set([base, ...runs].map((r) => r.hash)).size, 6);
  assert.equal(otherEpochs.history.loss.length, 2);
  const again = await fitOrLoad(toySpec(data, dir, { hp: { ...hp, batchSize: 8 } }));
  assert.equal(again.source, 'loaded');
  assert.equal(again.hash, otherBatch.hash);
  for (const r of [base, ...runs, again]) r.model.dispose();
  tf.dispose([data.x, data.y, otherData.x, otherData.y]);
});

test('an incomplete folder is trained again and replaced; an interrupted run is not kept', async () => {
  const data = toyData(32);
  const dir = freshDir();
  const first = await fitOrLoad(toySpec(data, dir));
  fs.rmSync(path.join(first.dir!, 'meta.json'));
  const second = await fitOrLoad(toySpec(data, dir));
  assert.equal(second.source, 'trained');
  assert.ok(readRunMeta(second.dir!));
  const stopped = await loadOrTrain({
    name: 'stopped',
    architecture: 'tiny',
    settings: {},
    dir,
    log: null,
    train: async () => ({ model: tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] }), history: { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] }, stopped: true }),
  });
  assert.equal(stopped.dir, null);
  assert.equal(fs.readdirSync(dir).some((f) => f.startsWith('stopped-')), false);
  for (const r of [first, second, stopped]) r.model.dispose();
  tf.dispose([data.x, data.y]);
});

test('no tensor leaks: training, keeping, loading and disposing leave the tensor count unchanged', async () => {
  const data = toyData(48);
  const dir = freshDir();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const run = await fitOrLoad(toySpec(data, dir, { augment: { zoomRange: 0.1 } }));
    assert.equal(run.source, i === 0 ? 'trained' : 'loaded');
    run.model.dispose();
  }
  const set = withAugmentedCopies(data.x, data.y, { extra: 10, augment: { rotationRange: 10 }, seed: 1, validationSplit: 0.25 });
  tf.dispose([set.x, set.y]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([data.x, data.y]);
});

test('withAugmentedCopies: the book appends at the end; training-part keeps the original validation images last', () => {
  const data = toyData(40);
  const augment = { rotationRange: 10, horizontalFlip: true };
  const book = withAugmentedCopies(data.x, data.y, { extra: 20, augment, seed: 3, validationSplit: 0.25, placement: 'book' });
  assert.equal(book.x.shape[0], 60);
  assert.equal(book.validationSplit, 0.25);
  assert.deepEqual([book.trainCount, book.validationCount, book.augmentedInValidation], [45, 15, 15]);

  const mine = withAugmentedCopies(data.x, data.y, { extra: 20, augment, seed: 3, validationSplit: 0.25 });
  assert.deepEqual([mine.trainCount, mine.validationCount, mine.augmentedInValidation], [50, 10, 0]);
  assert.equal(Math.floor(60 * (1 - mine.validationSplit)), 50, "fit's split rule holds out exactly the originals");
  const tailOriginal = data.x.slice(30).dataSync();
  const tailNew = mine.x.slice(50).dataSync();
  assert.deepEqual(Array.from(tailNew), Array.from(tailOriginal));
  assert.deepEqual(Array.from(mine.y.slice(50).dataSync()), Array.from(data.y.slice(30).dataSync()));
  // The rule must hold for awkward sizes too, where nVal / total is not exact in binary.
  for (const [n, extra, split] of [[60000, 30000, 0.25], [1000, 333, 0.2], [777, 1, 0.3], [10, 7, 0.1]] as const) {
    const d = toyData(n > 1000 ? 10 : n);
    if (n > 1000) {
      const nVal = n - Math.floor(n * (1 - split));
      const total = n + extra;
      let s = nVal / total;
      if (Math.floor(total * (1 - s)) !== total - nVal) s = (nVal - 0.5) / total;
      assert.equal(Math.floor(total * (1 - s)), total - nVal);
    } else {
      const r = withAugmentedCopies(d.x, d.y, { extra, augment, seed: 1, validationSplit: split });
      assert.equal(Math.floor(r.x.shape[0] * (1 - r.validationSplit)), r.trainCount);
      tf.dispose([r.x, r.y]);
    }
    tf.dispose([d.x, d.y]);
  }
  tf.dispose([data.x, data.y, book.x, book.y, mine.x, mine.y]);
});

test('reproducibility: the same seed twice on the same machine gives the same run', async (t) => {
  const data = toyData(256, 5);
  const spec = toySpec(data, freshDir(), { keep: false, epochs: 2, augment: { rotationRange: 10, horizontalFlip: true } });
  const a = await fitOrLoad(spec);
  const b = await fitOrLoad(spec);
  const diff = weightsDifference(a.model, b.model);
  t.diagnostic(`weights identical bit for bit: ${diff.identical}; largest difference ${diff.maxAbsDiff} over ${diff.weights} weights`);
  t.diagnostic(`losses ${a.history.loss.join(', ')} vs ${b.history.loss.join(', ')}`);
  // What TensorFlow guarantees is closeness: its threaded CPU kernels may sum in another order.
  assert.ok(diff.maxAbsDiff < 1e-4, `weights differ by ${diff.maxAbsDiff}`);
  a.history.loss.forEach((l, i) => assert.ok(Math.abs(l - b.history.loss[i]) < 1e-4));
  const other = await fitOrLoad({ ...spec, hp: { ...hp, seed: 7 } });
  assert.ok(weightsDifference(a.model, other.model).maxAbsDiff > 1e-3, 'another seed gives another run');
  for (const r of [a, b, other]) r.model.dispose();
  tf.dispose([data.x, data.y]);
});

/** Reads a file, lets `change` alter its bytes, and writes them back. */
function rewrite(file: string, change: (data: Buffer) => Buffer): void {
  fs.writeFileSync(file, change(fs.readFileSync(file)));
}

/** The same bytes with one bit of the byte in the middle flipped. */
function flipOneByte(data: Buffer): Buffer {
  const copy = Buffer.from(data);
  copy[copy.length >> 1] ^= 0x01;
  return copy;
}

/** Rewrites meta.json with `change` applied to its parsed object (its checksum is left as it was). */
function editMeta(dir: string, change: (meta: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'meta.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(meta);
  fs.writeFileSync(file, JSON.stringify(meta, null, 1));
}

/** Like editMeta, but recomputes meta.json's own checksum, as a hand edit that knew the format would. */
function forgeMeta(dir: string, change: (meta: Record<string, unknown>) => void): void {
  editMeta(dir, (m) => {
    change(m);
    delete m.metaSha256;
    m.metaSha256 = crypto.createHash('sha256').update(canonicalJson(m)).digest('hex');
  });
}

interface Damage {
  name: string;
  /** Damages the kept run in `folder`; `other` is a second kept run of the same architecture. */
  apply: (folder: string, other: string) => void;
  /** The reason that must follow `<folder>: ` in the one line. */
  reason: RegExp;
  /** Forged so that the files check out, so only loading finds it (listKeptRuns does not load). */
  foundOnLoad?: boolean;
}

const DAMAGES: Damage[] = [
  ...(['model.json', 'weights.bin'] as const).flatMap((file): Damage[] => [
    { name: `${file} missing`, apply: (d) => fs.rmSync(path.join(d, file)), reason: new RegExp(`^${file} is missing$`) },
    {
      name: `${file} truncated`,
      apply: (d) => rewrite(path.join(d, file), (b) => b.subarray(0, b.length >> 1)),
      reason: new RegExp(`^${file} is truncated \\(\\d+ of \\d+ bytes\\)$`),
    },
    { name: `${file} with one byte flipped`, apply: (d) => rewrite(path.join(d, file), flipOneByte), reason: new RegExp(`^${file} does not match its checksum$`) },
    {
      name: `${file} with bytes appended`,
      apply: (d) => rewrite(path.join(d, file), (b) => Buffer.concat([b, Buffer.from('extra')])),
      reason: new RegExp(`^${file} has 5 bytes more than were saved \\(\\d+ of \\d+\\)$`),
    },
    { name: `${file} replaced by a folder`, apply: (d) => { fs.rmSync(path.join(d, file)); fs.mkdirSync(path.join(d, file)); }, reason: new RegExp(`^${file} is a folder, not a file$`) },
  ]),
  {
    name: 'model.json altered (a layer changed, same size)',
    apply: (d) => rewrite(path.join(d, 'model.json'), (b) => {
      const text = b.toString('utf8');
      assert.ok(text.includes('"relu"'));
      return Buffer.from(text.replace('"relu"', '"tanh"'));
    }),
    reason: /^model\.json does not match its checksum$/,
  },
  {
    name: "weights.bin swapped with another run's",
    apply: (d, other) => fs.copyFileSync(path.join(other, 'weights.bin'), path.join(d, 'weights.bin')),
    reason: /^weights\.bin does not match its checksum$/,
  },
  { name: 'meta.json missing', apply: (d) => fs.rmSync(path.join(d, 'meta.json')), reason: /^meta\.json is missing$/ },
  { name: 'meta.json truncated', apply: (d) => rewrite(path.join(d, 'meta.json'), (b) => b.subarray(0, b.length >> 1)), reason: /^meta\.json is not valid JSON$/ },
  { name: 'meta.json not JSON', apply: (d) => fs.writeFileSync(path.join(d, 'meta.json'), 'not json\n'), reason: /^meta\.json is not valid JSON$/ },
  { name: 'meta.json a JSON array', apply: (d) => fs.writeFileSync(path.join(d, 'meta.json'), '[]\n'), reason: /^meta\.json is not a JSON object$/ },
  { name: 'meta.json with bytes appended', apply: (d) => fs.appendFileSync(path.join(d, 'meta.json'), 'extra'), reason: /^meta\.json is not valid JSON$/ },
  {
    name: 'meta.json with one value altered (test accuracy)',
    apply: (d) => editMeta(d, (m) => { (m.metrics as Record<string, number>).testAcc = 0.99; }),
    reason: /^meta\.json does not match its checksum$/,
  },
  {
    name: "meta.json's recorded checksum of weights.bin altered",
    apply: (d) => editMeta(d, (m) => { (m.files as Record<string, { sha256: string }>)['weights.bin'].sha256 = '0'.repeat(64); }),
    reason: /^meta\.json does not match its checksum$/,
  },
  {
    name: 'meta.json of another version (format 3)',
    apply: (d) => editMeta(d, (m) => { m.format = 3; }),
    reason: new RegExp(`^was kept by another version of this project \\(format 3; this one reads ${KEPT_RUN_FORMAT}\\)$`),
  },
  {
    name: 'meta.json without a format',
    apply: (d) => editMeta(d, (m) => { delete m.format; }),
    reason: /^was kept by another version of this project \(format null; this one reads \d+\)$/,
  },
  {
    name: 'a run kept before checksums (format 1)',
    apply: (d) => editMeta(d, (m) => { m.format = 1; delete m.files; delete m.metaSha256; }),
    reason: /^was kept by an earlier version of this project \(format 1, without checksums\)$/,
  },
  {
    name: 'meta.json of another run copied in',
    apply: (d, other) => fs.copyFileSync(path.join(other, 'meta.json'), path.join(d, 'meta.json')),
    reason: /^meta\.json belongs to toy-[0-9a-f]{12}, not to this folder$/,
  },
  {
    name: 'meta.json forged without a history (its checksum recomputed)',
    apply: (d) => forgeMeta(d, (m) => { delete m.history; }),
    reason: /^meta\.json has no history\.loss$/,
  },
  {
    name: 'meta.json forged to list a file outside the run',
    apply: (d) => forgeMeta(d, (m) => { (m.files as Record<string, unknown>)['../../etc/passwd'] = { bytes: 1, sha256: '0'.repeat(64) }; }),
    reason: /^meta\.json lists '\.\.\/\.\.\/etc\/passwd', which is not a file of the run$/,
  },
  {
    name: 'weights.bin truncated and meta.json forged to match it',
    apply: (d) => {
      const weights = path.join(d, 'weights.bin');
      rewrite(weights, (b) => b.subarray(0, b.length >> 1));
      const data = fs.readFileSync(weights);
      forgeMeta(d, (m) => {
        (m.files as Record<string, unknown>)['weights.bin'] = { bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
      });
    },
    reason: /^model\.json and weights\.bin do not load \(.+\)$/,
    foundOnLoad: true,
  },
  {
    name: 'the run folder replaced by a file',
    apply: (d) => { fs.rmSync(d, { recursive: true }); fs.writeFileSync(d, 'x'); },
    reason: /^is a file, not a folder$/,
  },
];

/** A kept toy run and a second one of the same architecture (another batch size), for the swap. */
async function twoKeptRuns(data: { x: tf.Tensor; y: tf.Tensor1D }, dir: string): Promise<{ folder: string; other: string }> {
  const runs = [await fitOrLoad(toySpec(data, dir)), await fitOrLoad(toySpec(data, dir, { hp: { ...hp, batchSize: 8 } }))];
  for (const run of runs) run.model.dispose();
  return { folder: runs[0].dir!, other: runs[1].dir! };
}

/** Asserts that `folder` holds a run that passes its checks, lists as ok, and that no staging folder is left. */
function assertVerifies(folder: string): void {
  const state = checkKeptRun(folder);
  assert.ok(state.ok, state.ok ? '' : state.reason);
  const row = listKeptRuns(path.dirname(folder)).find((r) => r.folder === path.basename(folder));
  assert.equal(row?.state, 'ok');
  assert.deepEqual(fs.readdirSync(path.dirname(folder)).filter((f) => f.startsWith('.')), [], 'no staging folder is left');
}

for (const damage of DAMAGES) {
  test(`damaged kept run, ${damage.name}: one line, not loaded, trained again, and the new run verifies`, async () => {
    const data = toyData(32);
    const dir = freshDir();
    const { folder, other } = await twoKeptRuns(data, dir);
    damage.apply(folder, other);
    if (!damage.foundOnLoad) {
      assert.equal(checkKeptRun(folder).ok, false);
      const listed = listKeptRuns(dir).find((r) => r.folder === path.basename(folder));
      assert.match(String(listed?.state), /^damaged: /);
      assert.match(String(listed?.state).slice('damaged: '.length), damage.reason);
    }

    const before = tf.memory().numTensors;
    const lines: string[] = [];
    let trainings = 0;
    const run = await fitOrLoad(toySpec(data, dir, { log: (l) => lines.push(l), callbacks: { onTrainBegin: () => trainings++ } }));
    assert.equal(run.source, 'trained', 'the damaged run is not loaded');
    assert.equal(trainings, 1);
    const damageLines = lines.filter((l) => l.includes(folder) && !l.includes('Trained and kept'));
    assert.equal(damageLines.length, 1, lines.join('\n'));
    const [line] = damageLines;
    assert.ok(!line.includes('\n'), line);
    assert.ok(line.startsWith(`${folder}: `) && line.endsWith('; training again'), line);
    assert.match(line.slice(folder.length + 2, -'; training again'.length), damage.reason);
    assert.equal(run.dir, folder);
    assertVerifies(folder);
    run.model.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensor is left behind');

    const again = await fitOrLoad(toySpec(data, dir));
    assert.equal(again.source, 'loaded', 'the run trained again is loaded next time');
    again.model.dispose();
    tf.dispose([data.x, data.y]);
  });
}

/** Keeps a tiny run in `dir` and returns its folder; the model is disposed. */
async function keptTiny(dir: string, counter: { trainings: number }, extra: Partial<LoadOrTrainSpec> = {}): Promise<string> {
  const run = await loadOrTrain(tinySpec(dir, counter, extra));
  run.model.dispose();
  return run.dir!;
}

test("onDamage: 'refuse' throws the one line and neither loads, trains nor touches the folder", async () => {
  const dir = freshDir();
  const counter = { trainings: 0 };
  const folder = await keptTiny(dir, counter);
  rewrite(path.join(folder, 'weights.bin'), flipOneByte);
  const damagedBytes = fs.readFileSync(path.join(folder, 'weights.bin'));
  const before = tf.memory().numTensors;
  await assert.rejects(loadOrTrain(tinySpec(dir, counter, { onDamage: 'refuse' })), (err: Error) => {
    assert.ok(err instanceof KeptRunError);
    assert.equal(err.message, `${folder}: weights.bin does not match its checksum; not training again (onDamage: 'refuse')`);
    return true;
  });
  assert.equal(counter.trainings, 1);
  assert.deepEqual(fs.readFileSync(path.join(folder, 'weights.bin')), damagedBytes, 'the damaged run is left for the user to look at');
  assert.equal(tf.memory().numTensors, before);
  const retrained = await loadOrTrain(tinySpec(dir, counter));
  assert.equal(retrained.source, 'trained');
  assert.equal(counter.trainings, 2);
  assertVerifies(folder);
  retrained.model.dispose();
});

test("fitOrLoad with onDamage: 'refuse' throws the one line and leaves no tensor behind", async () => {
  const data = toyData(32);
  const dir = freshDir();
  const first = await fitOrLoad(toySpec(data, dir));
  first.model.dispose();
  fs.rmSync(path.join(first.dir!, 'model.json'));
  const before = tf.memory().numTensors;
  await assert.rejects(fitOrLoad(toySpec(data, dir, { onDamage: 'refuse' })), {
    name: 'KeptRunError',
    message: `${first.dir}: model.json is missing; not training again (onDamage: 'refuse')`,
  });
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([data.x, data.y]);
});

test('a run kept with checksums records its files, format and its own checksum in meta.json', async () => {
  const dir = freshDir();
  const folder = await keptTiny(dir, { trainings: 0 });
  const meta = JSON.parse(fs.readFileSync(path.join(folder, 'meta.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(meta.format, KEPT_RUN_FORMAT);
  const files = meta.files as Record<string, { bytes: number; sha256: string }>;
  assert.deepEqual(Object.keys(files).sort(), ['model.json', 'weights.bin']);
  for (const [file, record] of Object.entries(files)) {
    assert.equal(record.bytes, fs.statSync(path.join(folder, file)).size);
    assert.match(record.sha256, /^[0-9a-f]{64}$/);
  }
  assert.match(String(meta.metaSha256), /^[0-9a-f]{64}$/);
  assert.deepEqual(fs.readdirSync(folder).sort(), ['meta.json', 'model.json', 'weights.bin'], 'no temporary meta file is left');
  assertVerifies(folder);
});

/** Pid of a process that has ended, as a killed save's would be. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

test("a half-written run (a killed save's staging folder) is ignored and cleaned; a live save's is left alone", async () => {
  const dir = freshDir();
  const counter = { trainings: 0 };
  const folder = await keptTiny(dir, counter);
  // A killed retraining: the kept run is damaged and its replacement was half written.
  rewrite(path.join(folder, 'weights.bin'), (b) => b.subarray(0, 3));
  const killed = path.join(dir, `.tmp-${path.basename(folder)}-${deadPid()}-a1b2c3`);
  fs.mkdirSync(killed);
  fs.copyFileSync(path.join(folder, 'model.json'), path.join(killed, 'model.json'));
  // A save in progress in another live process (pid 1 is always alive).
  const live = path.join(dir, `.tmp-other-0123456789ab-1-d4e5f6`);
  fs.mkdirSync(live);
  assert.deepEqual(listKeptRuns(dir).map((r) => r.folder), [path.basename(folder)], 'staging folders are not runs');

  const lines: string[] = [];
  const run = await loadOrTrain(tinySpec(dir, counter, { log: (l) => lines.push(l) }));
  assert.equal(run.source, 'trained');
  assert.equal(counter.trainings, 2);
  assert.deepEqual(lines.filter((l) => !l.includes('Trained and kept')), [`${folder}: weights.bin is truncated (3 of 12 bytes); training again`]);
  assert.equal(fs.existsSync(killed), false, "the killed save's staging folder is removed");
  assert.equal(fs.existsSync(live), true, "a live save's staging folder is left alone");
  fs.rmSync(live, { recursive: true });
  assertVerifies(folder);
  run.model.dispose();

  // Without a kept run at all, a killed first save is cleaned just the same, and nothing is said.
  fs.rmSync(folder, { recursive: true });
  fs.mkdirSync(killed);
  lines.length = 0;
  const fresh = await loadOrTrain(tinySpec(dir, counter, { log: (l) => lines.push(l) }));
  assert.equal(fresh.source, 'trained');
  assert.deepEqual(lines.map((l) => l.replace(/ in .*/, '')), ['저장함 Trained and kept']);
  assertVerifies(folder);
  fresh.model.dispose();
});

test('listKeptRuns gives every run its state, damaged ones last with the reason', async () => {
  const dir = freshDir();
  const counter = { trainings: 0 };
  const damaged = await keptTiny(dir, counter);
  const ok = await keptTiny(dir, counter, { settings: { units: 2 } });
  fs.rmSync(path.join(damaged, 'weights.bin'));
  fs.mkdirSync(path.join(dir, 'not-a-run'));
  const rows = listKeptRuns(dir);
  assert.deepEqual(rows.map((r) => [r.folder, r.state]), [
    [path.basename(ok), 'ok'],
    [path.basename(damaged), 'damaged: weights.bin is missing'],
  ]);
});

const NOBODY = 65534;

/**
 * Runs loadOrTrain on `dir` with a read-only models folder, as a user who cannot write it:
 * in this process after a chmod, or, as root (who writes anyway), in a child process as nobody.
 * Returns the error's message, or undefined when no such user can run here.
 */
function loadInReadOnlyDir(dir: string): string | undefined {
  const mode = fs.statSync(dir).mode & 0o777;
  fs.chmodSync(dir, 0o555);
  try {
    for (let d = dir; d !== path.dirname(tmpRoot); d = path.dirname(d)) fs.chmodSync(d, fs.statSync(d).mode | 0o555);
    const script = `
      const { tf } = require(${JSON.stringify(path.join(__dirname, '..', 'core', 'backend.js'))});
      const { loadOrTrain } = require(${JSON.stringify(path.join(__dirname, 'persist.js'))});
      let trainings = 0;
      loadOrTrain({ name: 'tiny', architecture: 'tiny', settings: { units: 1 }, dir: process.argv[1], log: null,
        train: async () => { trainings++; return { model: tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }), history: { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] } }; } })
        .then(() => console.log(JSON.stringify({ loaded: true, trainings })),
          (err) => console.log(JSON.stringify({ name: err.name, message: err.message, trainings })));`;
    const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    const result = spawnSync(process.execPath, ['-e', script, dir], { ...asNobody, encoding: 'utf8', timeout: 60000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    if (result.error || result.status !== 0) return undefined;
    const outcome = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { name?: string; message?: string; trainings: number };
    assert.equal(outcome.name, 'KeptRunError', result.stdout);
    assert.equal(outcome.trainings, 0, 'nothing is trained when it could not be kept');
    return outcome.message;
  } finally {
    fs.chmodSync(dir, mode);
  }
}

test('a damaged run in a read-only models folder: one line before any training, and the run is left as it was', async (t) => {
  const dir = freshDir();
  const counter = { trainings: 0 };
  const folder = await keptTiny(dir, counter);
  rewrite(path.join(folder, 'weights.bin'), flipOneByte);
  const damaged = fs.readFileSync(path.join(folder, 'weights.bin'));
  const message = loadInReadOnlyDir(dir);
  if (message === undefined) {
    t.skip('no user without write access to the models folder could run here');
    return;
  }
  assert.equal(
    message,
    `${folder}: weights.bin does not match its checksum; cannot train again: ${dir} is not writable (permission denied); ` +
      `nothing was trained (${MODELS_DIR_ENV} can name another folder)`,
  );
  assert.deepEqual(fs.readFileSync(path.join(folder, 'weights.bin')), damaged);
  assert.deepEqual(fs.readdirSync(dir), [path.basename(folder)], 'nothing is left beside it');
  // Writable again, the next call trains and keeps a run that verifies.
  const run = await loadOrTrain(tinySpec(dir, counter));
  assert.equal(run.source, 'trained');
  assertVerifies(folder);
  run.model.dispose();
});

test('a read-only models folder without the run: one line before any training, nothing written', (t) => {
  const dir = freshDir();
  fs.mkdirSync(dir);
  const message = loadInReadOnlyDir(dir);
  if (message === undefined) {
    t.skip('no user without write access to the models folder could run here');
    return;
  }
  assert.match(message, new RegExp(`^${dir}/tiny-[0-9a-f]{12}: cannot keep a new run: ${dir} is not writable \\(permission denied\\); nothing was trained`));
  assert.deepEqual(fs.readdirSync(dir), []);
});
