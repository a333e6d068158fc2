import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DATA_FILES,
  DataError,
  DataFileKey,
  DatasetSpec,
  DEFAULT_SYSTEM_DIR,
  describeDataset,
  formatDatasetFacts,
  loadFashionMnist,
  LoadOptions,
} from './load';
import { encodeIdx, sha256Hex } from './idx';
import { projectRoot } from '../core/paths';
import { tempDir as sharedTempDir } from '../../test/support';

const KEYS = Object.keys(DATA_FILES) as DataFileKey[];
const TRAIN = 6;
const TEST = 4;

/** A tiny dataset: 6 training and 4 test images, their IDX bytes, gz files and matching spec. */
function synthetic() {
  const pixels = (count: number, offset: number) => Uint8Array.from({ length: count * 784 }, (_, i) => (i * 7 + offset) % 256);
  const labels = (count: number, offset: number) => Uint8Array.from({ length: count }, (_, i) => (i + offset) % 10);
  const raw: Record<DataFileKey, Buffer> = {
    trainImages: encodeIdx('images', pixels(TRAIN, 0)),
    trainLabels: encodeIdx('labels', labels(TRAIN, 9)),
    testImages: encodeIdx('images', pixels(TEST, 3)),
    testLabels: encodeIdx('labels', labels(TEST, 0)),
  };
  const kind = (key: DataFileKey) => (key.endsWith('Images') ? ('images' as const) : ('labels' as const));
  const count = (key: DataFileKey) => (key.startsWith('train') ? TRAIN : TEST);
  const spec = Object.fromEntries(KEYS.map((k) => [k, { kind: kind(k), count: count(k), sha256: sha256Hex(raw[k]) }])) as DatasetSpec;
  const gz = Object.fromEntries(KEYS.map((k) => [k, gzipSync(raw[k])])) as Record<DataFileKey, Buffer>;
  return { raw, gz, spec, kind, count };
}

const DATA = synthetic();

const tempDir = (t: TestContext) => sharedTempDir(t, 'fmnist-data-');

function writeDataset(dir: string, files: Partial<Record<DataFileKey, Buffer>> = DATA.gz): void {
  for (const [key, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, DATA_FILES[key as DataFileKey]), bytes);
}

/** Options that keep a test inside its own folders: no project cache, no system copy, no network. */
function isolated(cacheDir: string, extra: LoadOptions = {}): LoadOptions {
  return {
    cacheDir,
    systemDir: path.join(cacheDir, 'no-system-copy'),
    download: false,
    quiet: true,
    env: {},
    expected: DATA.spec,
    ...extra,
  };
}

async function assertLoadFails(options: LoadOptions, file: string, pattern: RegExp): Promise<string> {
  let message = '';
  await assert.rejects(loadFashionMnist(options), (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    message = err.message;
    assert.ok(message.startsWith(`${file}: `), `message should start with the file's path: ${message}`);
    assert.ok(!message.includes('\n'), `message should be one line: ${message}`);
    assert.match(message, pattern);
    return true;
  });
  return message;
}

test('loads a complete folder given as an option, with counts, labels and facts', { timeout: 20000 }, async (t) => {
  const dir = tempDir(t);
  const cache = tempDir(t);
  writeDataset(dir);
  const ds = await loadFashionMnist(isolated(cache, { dir }));
  assert.equal(ds.source, 'option');
  assert.equal(ds.dir, dir);
  assert.equal(ds.train.count, TRAIN);
  assert.equal(ds.test.count, TEST);
  assert.equal(ds.train.images.length, TRAIN * 784);
  assert.deepEqual(Array.from(ds.train.labels), [9, 0, 1, 2, 3, 4]);
  assert.equal(ds.rows, 28);
  for (const key of KEYS) {
    assert.equal(ds.files[key].path, path.join(dir, DATA_FILES[key]));
    assert.equal(ds.files[key].sha256, DATA.spec[key].sha256);
    assert.equal(ds.files[key].bytes, DATA.raw[key].length);
    assert.equal(ds.files[key].fileBytes, DATA.gz[key].length);
    assert.equal(ds.files[key].verified, true);
  }
  const facts = describeDataset(ds);
  assert.deepEqual(facts.train.imagesShape, [TRAIN, 28, 28]);
  assert.deepEqual(facts.test.labelsShape, [TEST]);
  assert.deepEqual(facts.train.classCounts, [1, 1, 1, 1, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual(facts.firstTrainLabels, [9, 0, 1, 2, 3, 4]);
  const lines = formatDatasetFacts(facts);
  assert.ok(lines.some((l) => /train-images-idx3-ubyte\.gz .* sha256 ok/.test(l)));
  assert.ok(lines.includes(`first ten training labels: 9 0 1 2 3 4`));
  assert.deepEqual(fs.readdirSync(cache), [], 'nothing is written to the cache');
});

test('FASHION_MNIST_DIR is used as the only place, and must be complete', { timeout: 20000 }, async (t) => {
  const dir = tempDir(t);
  const cache = tempDir(t);
  writeDataset(dir);
  const ds = await loadFashionMnist(isolated(cache, { env: { FASHION_MNIST_DIR: dir } }));
  assert.equal(ds.source, 'env');
  // A complete cache does not take precedence over an explicit folder that is incomplete.
  writeDataset(cache);
  fs.rmSync(path.join(dir, DATA_FILES.testLabels));
  await assertLoadFails(isolated(cache, { env: { FASHION_MNIST_DIR: dir } }), dir, /missing t10k-labels-idx1-ubyte\.gz .*FASHION_MNIST_DIR/);
  const nowhere = path.join(dir, 'nowhere');
  await assertLoadFails(isolated(cache, { dir: nowhere }), nowhere, /no such folder \(given by the dir option\)/);
});

test('search order: cache, then the system copy; none and no download is an error', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  const system = tempDir(t);
  await assertLoadFails(isolated(cache, { systemDir: system }), cache, /Fashion-MNIST not found .*downloading is off/);
  writeDataset(system);
  assert.equal((await loadFashionMnist(isolated(cache, { systemDir: system }))).source, 'system');
  // A partial cache (an interrupted download) does not count; the system copy is used.
  writeDataset(cache, { trainLabels: DATA.gz.trainLabels });
  const fromSystem = await loadFashionMnist(isolated(cache, { systemDir: system }));
  assert.equal(fromSystem.source, 'system');
  assert.equal(fromSystem.dir, system);
  writeDataset(cache);
  const fromCache = await loadFashionMnist(isolated(cache, { systemDir: system, env: { FASHION_MNIST_SYSTEM_DIR: '/nonexistent' } }));
  assert.equal(fromCache.source, 'cache');
  assert.equal(fromCache.dir, cache);
});

test('environment variables choose the cache and system folders', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  const system = tempDir(t);
  writeDataset(system);
  const ds = await loadFashionMnist({ quiet: true, download: false, expected: DATA.spec, env: { FASHION_MNIST_CACHE_DIR: cache, FASHION_MNIST_SYSTEM_DIR: system } });
  assert.equal(ds.source, 'system');
  assert.equal(ds.dir, system);
});

test('uncompressed files are accepted under the names without .gz', { timeout: 20000 }, async (t) => {
  const dir = tempDir(t);
  const cache = tempDir(t);
  for (const key of KEYS) fs.writeFileSync(path.join(dir, DATA_FILES[key].replace(/\.gz$/, '')), DATA.raw[key]);
  const ds = await loadFashionMnist(isolated(cache, { dir }));
  assert.equal(ds.files.trainImages.path, path.join(dir, 'train-images-idx3-ubyte'));
  assert.equal(ds.files.trainImages.fileBytes, ds.files.trainImages.bytes);
  assert.deepEqual(ds.test.images, new Uint8Array(DATA.raw.testImages.subarray(16)));
});

test('the default cache is data/ in the project root', () => {
  assert.ok(fs.existsSync(path.join(projectRoot(), 'package.json')), projectRoot());
});

interface Damage {
  name: string;
  /** Only for files of this kind. */
  only?: 'images' | 'labels';
  /** Replaces the file in the folder; may make it something other than a file. */
  apply: (file: string, key: DataFileKey) => void;
  pattern: RegExp;
  /** Loads without counts in the spec, so the pair check is what catches it. */
  anyCount?: boolean;
  /** Must be loaded by a user without root's power to read any file. */
  unprivileged?: boolean;
}

const gzOf = (bytes: Uint8Array) => gzipSync(bytes);
const countOf = (key: DataFileKey) => DATA.count(key);
const flipByte = (bytes: Uint8Array, at: number) => {
  const copy = Buffer.from(bytes);
  copy[at] ^= 0x01;
  return copy;
};

const DAMAGES: Damage[] = [
  {
    name: 'truncated IDX data',
    apply: (file, key) => fs.writeFileSync(file, gzOf(DATA.raw[key].subarray(0, DATA.raw[key].length - (DATA.kind(key) === 'images' ? 800 : 2)))),
    pattern: /truncated: header says \d+ (images|labels) but the file holds \d+/,
  },
  {
    name: 'truncated gz file',
    apply: (file, key) => fs.writeFileSync(file, DATA.gz[key].subarray(0, DATA.gz[key].length - 10)),
    pattern: /corrupt gzip data \(unexpected end of file\)/,
  },
  {
    name: 'bit flipped in the data',
    apply: (file, key) => fs.writeFileSync(file, gzOf(flipByte(DATA.raw[key], DATA.raw[key].length - 1))),
    pattern: /SHA-256 mismatch/,
  },
  {
    name: 'bit flipped in the gz file',
    apply: (file, key) => fs.writeFileSync(file, flipByte(DATA.gz[key], DATA.gz[key].length - 5)),
    pattern: /corrupt gzip data/,
  },
  {
    name: 'wrong magic number',
    apply: (file, key) => {
      const raw = Buffer.from(DATA.raw[key]);
      raw.writeUInt32BE(DATA.kind(key) === 'images' ? 2049 : 2051, 0);
      fs.writeFileSync(file, gzOf(raw));
    },
    pattern: /wrong magic number (2049|2051)/,
  },
  {
    name: 'wrong count in the header',
    apply: (file, key) => {
      const n = countOf(key) + 1;
      const body = DATA.kind(key) === 'images' ? new Uint8Array(n * 784) : new Uint8Array(n);
      fs.writeFileSync(file, gzOf(encodeIdx(DATA.kind(key), body)));
    },
    pattern: /header says \d+ (images|labels), expected \d+/,
  },
  {
    name: 'trailing bytes',
    apply: (file, key) => fs.writeFileSync(file, gzOf(Buffer.concat([DATA.raw[key], Buffer.alloc(3)]))),
    pattern: /3 trailing bytes/,
  },
  {
    name: 'label out of range',
    only: 'labels',
    apply: (file, key) => {
      const raw = Buffer.from(DATA.raw[key]);
      raw[8 + 1] = 200;
      fs.writeFileSync(file, gzOf(raw));
    },
    pattern: /label 200 at index 1 is outside 0\.\.9/,
  },
  {
    name: 'images not 28×28',
    only: 'images',
    apply: (file, key) => fs.writeFileSync(file, gzOf(encodeIdx('images', new Uint8Array(countOf(key) * 784), { rows: 14, cols: 56 }))),
    pattern: /images are 14×56, expected 28×28/,
  },
  {
    name: 'images and labels of different counts',
    anyCount: true,
    apply: (file, key) => {
      const n = countOf(key) - 1;
      const body = DATA.kind(key) === 'images' ? new Uint8Array(n * 784) : new Uint8Array(n);
      fs.writeFileSync(file, gzOf(encodeIdx(DATA.kind(key), body)));
    },
    pattern: /holds \d+ labels? but .* holds \d+ images?/,
  },
  {
    name: 'empty file',
    apply: (file) => fs.writeFileSync(file, ''),
    pattern: /empty file \(0 bytes\)/,
  },
  {
    name: 'HTML page in place of the gz file',
    apply: (file) => fs.writeFileSync(file, '<!DOCTYPE html>\n<title>404 Not Found</title>\n'),
    pattern: /not a gzip file .*<!DOCTYPE html>/,
  },
  {
    name: 'a folder in place of the file',
    apply: (file) => fs.mkdirSync(file),
    pattern: /is a folder, not a file/,
  },
  {
    name: 'unreadable file (no read permission)',
    // Root reads any file whatever its mode, so as root the load runs in a child process as nobody.
    unprivileged: true,
    apply: (file, key) => {
      fs.writeFileSync(file, DATA.gz[key]);
      fs.chmodSync(file, 0o000);
    },
    pattern: /cannot be read: permission denied/,
  },
  {
    name: 'unreadable file (a loop of symbolic links)',
    apply: (file) => fs.symlinkSync(path.basename(file), file),
    pattern: /cannot be read: a loop of symbolic links/,
  },
  {
    name: 'unreadable file (a broken symbolic link)',
    apply: (file) => fs.symlinkSync(`${file}.gone`, file),
    pattern: /cannot be read: it is a broken symbolic link/,
  },
];

const NOBODY = 65534;

/**
 * Loads `dir` in a child process running as nobody and returns the DataError's message, or
 * undefined when no such child can run here (no nobody user, or the build is not readable).
 */
function loadAsNobody(dir: string, cache: string): string | undefined {
  for (const folder of [dir, cache]) fs.chmodSync(folder, 0o755);
  const script = `
    const { loadFashionMnist } = require(${JSON.stringify(path.join(__dirname, 'load.js'))});
    loadFashionMnist(JSON.parse(process.argv[1])).then(
      () => console.log(JSON.stringify({ loaded: true })),
      (err) => console.log(JSON.stringify({ name: err.name, message: err.message })));`;
  const result = spawnSync(process.execPath, ['-e', script, JSON.stringify(isolated(cache, { dir }))], {
    uid: NOBODY,
    gid: NOBODY,
    encoding: 'utf8',
    timeout: 15000,
  });
  if (result.error || result.status !== 0) return undefined;
  const outcome = JSON.parse(result.stdout) as { loaded?: boolean; name?: string; message?: string };
  assert.equal(outcome.name, 'DataError', result.stdout);
  return outcome.message;
}

for (const key of KEYS) {
  for (const damage of DAMAGES) {
    if (damage.only && damage.only !== DATA.kind(key)) continue;
    test(`${DATA_FILES[key]}: ${damage.name} is reported on one line naming the file`, { timeout: 20000 }, async (t) => {
      const dir = tempDir(t);
      const cache = tempDir(t);
      writeDataset(dir);
      const file = path.join(dir, DATA_FILES[key]);
      fs.rmSync(file);
      damage.apply(file, key);
      const expected = damage.anyCount
        ? (Object.fromEntries(KEYS.map((k) => [k, { kind: DATA.kind(k) }])) as DatasetSpec)
        : DATA.spec;
      // The pair check names the labels file, whichever of the two is short.
      const named = damage.anyCount ? path.join(dir, DATA_FILES[key.replace('Images', 'Labels') as DataFileKey]) : file;
      if (damage.unprivileged && process.getuid?.() === 0) {
        const message = loadAsNobody(dir, cache);
        if (message === undefined) {
          t.skip('running as root, and a child process as nobody could not be started');
          return;
        }
        assert.ok(message.startsWith(`${named}: `) && !message.includes('\n'), message);
        assert.match(message, damage.pattern);
      } else {
        await assertLoadFails(isolated(cache, { dir, expected }), named, damage.pattern);
      }
      assert.deepEqual(fs.readdirSync(cache), [], 'the cache holds nothing new');
    });
  }
}

test('a damaged file in the cache is reported with a fix, and left for the user to delete', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  const system = tempDir(t);
  writeDataset(cache);
  writeDataset(system);
  const file = path.join(cache, DATA_FILES.trainImages);
  fs.writeFileSync(file, flipByte(DATA.gz.trainImages, DATA.gz.trainImages.length - 5));
  const before = fs.readdirSync(cache).sort();
  // Neither the system copy nor a download may hide a bad cache file: it would be found again.
  await assertLoadFails(isolated(cache, { systemDir: system }), file, /corrupt gzip data .*; delete it and rerun/);
  assert.deepEqual(fs.readdirSync(cache).sort(), before);
  fs.rmSync(file);
  assert.equal((await loadFashionMnist(isolated(cache, { systemDir: system }))).source, 'system');
});

test('a damaged system copy is reported with a fix', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  const system = tempDir(t);
  writeDataset(system, { ...DATA.gz, testLabels: Buffer.alloc(0) });
  await assertLoadFails(isolated(cache, { systemDir: system }), path.join(system, DATA_FILES.testLabels), /empty file .*reinstall the package dataset-fashion-mnist/);
  assert.deepEqual(fs.readdirSync(cache), []);
});

test('the official system copy loads with the known facts', { timeout: 20000 }, async (t) => {
  const complete = Object.values(DATA_FILES).every((name) => fs.existsSync(path.join(DEFAULT_SYSTEM_DIR, name)));
  if (!complete) {
    t.skip(`no system copy in ${DEFAULT_SYSTEM_DIR} (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const cache = tempDir(t);
  // The official spec (the default) applies: every SHA-256 from TUTORIAL.md is checked.
  const ds = await loadFashionMnist({ cacheDir: cache, systemDir: DEFAULT_SYSTEM_DIR, download: false, quiet: true, env: {} });
  assert.equal(ds.source, 'system');
  assert.equal(ds.train.count, 60000);
  assert.equal(ds.test.count, 10000);
  assert.equal(ds.train.images.length, 60000 * 784);
  assert.equal(ds.test.images.length, 10000 * 784);
  const facts = describeDataset(ds);
  assert.deepEqual(facts.firstTrainLabels, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  assert.deepEqual(facts.train.classCounts, new Array(10).fill(6000));
  assert.deepEqual(facts.test.classCounts, new Array(10).fill(1000));
  assert.ok(Math.abs(facts.meanTrainPixel - 0.286) < 0.0005, String(facts.meanTrainPixel));
  assert.ok(Object.values(ds.files).every((f) => f.verified));
  assert.deepEqual(fs.readdirSync(cache), []);
});
