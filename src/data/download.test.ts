import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DATA_FILES, DataError, DataFileKey, DatasetSpec, loadFashionMnist, LoadOptions } from './load';
import { downloadVerified, removeStaleTemporaryFiles, temporaryPath } from './download';
import { encodeIdx, sha256Hex } from './idx';
import { tempDir as sharedTempDir } from '../../test/support';

const KEYS = Object.keys(DATA_FILES) as DataFileKey[];

/**
 * A small synthetic dataset served by a local mirror. The train images are made large enough
 * (1,500 images, about 1.2 MB of incompressible noise) that a response spans many chunks, so
 * "connection dropped mid-file" and "stalled" really happen in the middle of a body.
 */
function synthetic() {
  let state = 12345;
  const noise = (n: number) => Uint8Array.from({ length: n }, () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24));
  const counts: Record<DataFileKey, number> = { trainImages: 1500, trainLabels: 1500, testImages: 4, testLabels: 4 };
  const raw = {} as Record<DataFileKey, Buffer>;
  for (const key of KEYS) {
    raw[key] = key.endsWith('Images')
      ? encodeIdx('images', noise(counts[key] * 784))
      : encodeIdx('labels', Uint8Array.from({ length: counts[key] }, (_, i) => i % 10));
  }
  const spec = Object.fromEntries(
    KEYS.map((k) => [k, { kind: k.endsWith('Images') ? 'images' : 'labels', count: counts[k], sha256: sha256Hex(raw[k]) }]),
  ) as DatasetSpec;
  const gz = Object.fromEntries(KEYS.map((k) => [k, gzipSync(raw[k])])) as Record<DataFileKey, Buffer>;
  return { raw, gz, spec };
}

const DATA = synthetic();
const BY_NAME = new Map(KEYS.map((k) => [DATA_FILES[k], DATA.gz[k]]));

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, file: Buffer | undefined, name: string) => void;

const serveFile: Handler = (_req, res, file) => {
  if (!file) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': file.length }).end(file);
};

/** Runs `fn` against a mirror on 127.0.0.1; the server and every connection are closed afterwards. */
async function withMirror(handler: Handler, fn: (mirror: string, requests: string[]) => Promise<void>): Promise<void> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = path.basename(req.url ?? '');
    handler(req, res, BY_NAME.get(name), name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}/fashion/`, requests);
  } finally {
    // A stalled response would keep close() waiting for ever.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const tempDir = (t: TestContext) => sharedTempDir(t, 'fmnist-download-');

function options(cacheDir: string, mirror: string, extra: LoadOptions = {}): LoadOptions {
  return { cacheDir, mirror, systemDir: path.join(cacheDir, 'no-system-copy'), quiet: true, env: {}, expected: DATA.spec, timeoutMs: 5000, ...extra };
}

/** The cache's files, leaving out the empty folder the options name as the system copy. */
function cacheFiles(cacheDir: string): string[] {
  return fs.readdirSync(cacheDir).sort();
}

function assertNoTemporaryFiles(cacheDir: string): void {
  const leftovers = cacheFiles(cacheDir).filter((name) => name.endsWith('.tmp') || name.startsWith('.'));
  assert.deepEqual(leftovers, [], 'no temporary file is left behind');
}

function assertCacheIsComplete(cacheDir: string): void {
  assert.deepEqual(cacheFiles(cacheDir), Object.values(DATA_FILES).sort());
  for (const key of KEYS) assert.deepEqual(fs.readFileSync(path.join(cacheDir, DATA_FILES[key])), DATA.gz[key]);
}

async function assertDownloadFails(promise: Promise<unknown>, url: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${url}: `), err.message);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Serves every file normally except `name`, which `broken` answers. */
function breakOne(name: string, broken: Handler): Handler {
  return (req, res, file, requested) => (requested === name ? broken(req, res, file, requested) : serveFile(req, res, file, requested));
}

const TRAIN_IMAGES = DATA_FILES.trainImages;

test('downloads the four files into the cache, then reads them from there', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  await withMirror(serveFile, async (mirror, requests) => {
    const progress: number[] = [];
    const ds = await loadFashionMnist(options(cache, mirror, { onProgress: (p) => p.file === TRAIN_IMAGES && progress.push(p.received) }));
    assert.equal(ds.source, 'download');
    assert.equal(ds.dir, cache);
    assert.equal(ds.train.count, 1500);
    assert.deepEqual(ds.train.images, new Uint8Array(DATA.raw.trainImages.subarray(16)));
    assert.equal(ds.files.trainImages.path, path.join(cache, TRAIN_IMAGES));
    assertCacheIsComplete(cache);
    assertNoTemporaryFiles(cache);
    assert.ok(progress.length > 1, 'progress is reported while the file arrives');
    assert.equal(progress[progress.length - 1], DATA.gz.trainImages.length);
    assert.equal(requests.length, 4);
    const again = await loadFashionMnist(options(cache, mirror));
    assert.equal(again.source, 'cache');
    assert.equal(requests.length, 4, 'a complete cache needs no download');
  });
});

test('follows redirects, and gives up after five', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  const redirecting: Handler = (req, res, file, name) => {
    if (req.url?.startsWith('/fashion/')) res.writeHead(302, { location: `/moved/${name}` }).end();
    else if (req.url?.startsWith('/loop/')) res.writeHead(301, { location: req.url }).end();
    else serveFile(req, res, file, name);
  };
  await withMirror(redirecting, async (mirror) => {
    assert.equal((await loadFashionMnist(options(cache, mirror))).source, 'download');
    assertCacheIsComplete(cache);
    const other = tempDir(t);
    const loop = mirror.replace('/fashion/', '/loop/');
    await assertDownloadFails(loadFashionMnist(options(other, loop)), `${loop}${DATA_FILES.trainLabels}`, /more than 5 redirects/);
    assert.deepEqual(cacheFiles(other), []);
  });
});

interface Failure {
  name: string;
  handler: Handler;
  pattern: RegExp;
  timeoutMs?: number;
}

const FAILURES: Failure[] = [
  { name: 'HTTP 404', handler: (_q, res) => res.writeHead(404).end('no such file'), pattern: /HTTP 404 Not Found/ },
  { name: 'HTTP 500', handler: (_q, res) => res.writeHead(500).end('oops'), pattern: /HTTP 500 Internal Server Error/ },
  {
    name: 'an HTML page instead of gzip',
    handler: (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Moved</body></html>'),
    pattern: /not a gzip file .*DOCTYPE/,
  },
  {
    name: 'the connection dropped mid-file',
    handler: (_q, res, file) => {
      const body = file ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
    },
    pattern: /download interrupted after \d+ of \d+ bytes/,
  },
  {
    name: 'a body cut short without Content-Length',
    handler: (_q, res, file) => {
      const body = file ?? Buffer.alloc(0);
      // HTTP/1.0 style: the end of the connection is the end of the body, so only gzip can tell.
      res.useChunkedEncodingByDefault = false;
      res.shouldKeepAlive = false;
      res.writeHead(200, { connection: 'close' });
      res.end(body.subarray(0, body.length >> 1));
    },
    pattern: /corrupt gzip data \(unexpected end of file\)/,
  },
  {
    name: 'a stall mid-file',
    handler: (_q, res, file) => {
      const body = file ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 100_000));
    },
    pattern: /stalled: no data for 300 ms after \d+ of \d+ bytes/,
    timeoutMs: 300,
  },
  {
    name: 'no answer at all',
    handler: () => undefined,
    pattern: /no answer within 300 ms/,
    timeoutMs: 300,
  },
  {
    name: 'a different file (checksum mismatch)',
    handler: (_q, res) => {
      const wrong = gzipSync(encodeIdx('images', new Uint8Array(1500 * 784)));
      res.writeHead(200, { 'content-length': wrong.length }).end(wrong);
    },
    pattern: /SHA-256 mismatch/,
  },
];

for (const failure of FAILURES) {
  test(`${failure.name}: a one-line error naming the URL, no file left, and the next attempt succeeds`, { timeout: 20000 }, async (t) => {
    const cache = tempDir(t);
    let failing = true;
    const handler: Handler = (req, res, file, name) =>
      failing && name === TRAIN_IMAGES ? failure.handler(req, res, file, name) : serveFile(req, res, file, name);
    await withMirror(handler, async (mirror) => {
      const started = Date.now();
      await assertDownloadFails(
        loadFashionMnist(options(cache, mirror, { timeoutMs: failure.timeoutMs ?? 5000 })),
        `${mirror}${TRAIN_IMAGES}`,
        failure.pattern,
      );
      if (failure.timeoutMs) assert.ok(Date.now() - started < 5000, 'the stall is cut off by timeoutMs');
      assertNoTemporaryFiles(cache);
      // The files before the failed one are verified and kept; the failed one is not there at all.
      assert.ok(!cacheFiles(cache).includes(TRAIN_IMAGES));
      failing = false;
      const ds = await loadFashionMnist(options(cache, mirror));
      assert.equal(ds.source, 'download');
      assertCacheIsComplete(cache);
      assertNoTemporaryFiles(cache);
    });
  });
}

test('an unreachable mirror is a one-line error', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  // A port that was just free: nothing listens there any more.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const mirror = `http://127.0.0.1:${port}/`;
  await assertDownloadFails(loadFashionMnist(options(cache, mirror)), `${mirror}${DATA_FILES.trainLabels}`, /connection refused/);
  assert.deepEqual(cacheFiles(cache), []);
  await assertDownloadFails(loadFashionMnist(options(cache, 'ftp://example.org/')), `ftp://example.org/${DATA_FILES.trainLabels}`, /unsupported protocol ftp:/);
});

test('two loads downloading at once leave one correct cache', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  await withMirror(serveFile, async (mirror) => {
    const [a, b] = await Promise.all([loadFashionMnist(options(cache, mirror)), loadFashionMnist(options(cache, mirror))]);
    assert.equal(a.train.count, 1500);
    assert.deepEqual(a.train.labels, b.train.labels);
    assertCacheIsComplete(cache);
    assertNoTemporaryFiles(cache);
  });
});

test('a file already in the cache is checked, not downloaded again', { timeout: 20000 }, async (t) => {
  const cache = tempDir(t);
  fs.writeFileSync(path.join(cache, DATA_FILES.trainLabels), DATA.gz.trainLabels);
  await withMirror(serveFile, async (mirror, requests) => {
    await loadFashionMnist(options(cache, mirror));
    assert.equal(requests.length, 3);
    assertCacheIsComplete(cache);
    // A bad one stops the load before any download, with the fix in the message.
    const other = tempDir(t);
    const bad = path.join(other, DATA_FILES.testLabels);
    fs.writeFileSync(bad, 'junk');
    await assert.rejects(loadFashionMnist(options(other, mirror)), (err: Error) => err.message.startsWith(`${bad}: not a gzip file`) && /delete it and rerun/.test(err.message));
    assert.equal(requests.length, 3);
    assert.deepEqual(cacheFiles(other), [DATA_FILES.testLabels]);
  });
});

test('progress: a few plain lines when stderr is not a terminal, a bar when it is', { timeout: 20000 }, async (t) => {
  const dir = tempDir(t);
  await withMirror(serveFile, async (mirror) => {
    for (const isTTY of [false, true]) {
      const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 });
      const chunks: string[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
      const dest = path.join(dir, `${isTTY ? 'tty' : 'plain'}.gz`);
      const length = await downloadVerified(`${mirror}${TRAIN_IMAGES}`, dest, { verify: (bytes) => bytes.length, progressStream: stream });
      assert.equal(length, DATA.gz.trainImages.length);
      const text = chunks.join('');
      if (isTTY) {
        assert.match(text, /\r.*\[#+\] 100% 1\.2 MB of 1\.2 MB/);
      } else {
        const lines = text.trimEnd().split('\n');
        assert.ok(lines.length <= 6 && !text.includes('\r'), text);
        assert.match(lines[0], /^downloading http:\/\/127\.0\.0\.1:\d+\/fashion\/train-images-idx3-ubyte\.gz$/);
        assert.match(text, /50% \(/);
      }
    }
    // A verify that throws keeps the file out of place.
    const dest = path.join(dir, 'rejected.gz');
    await assert.rejects(
      downloadVerified(`${mirror}${TRAIN_IMAGES}`, dest, {
        quiet: true,
        verify: (_bytes, where) => {
          throw new DataError(`${where}: rejected`);
        },
      }),
      /rejected/,
    );
    assert.ok(!fs.existsSync(dest));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['plain.gz', 'tty.gz']);
  });
});

test('temporary names are unique and beside the destination', () => {
  const a = temporaryPath('/cache/x.gz');
  const b = temporaryPath('/cache/x.gz');
  assert.notEqual(a, b);
  assert.equal(path.dirname(a), '/cache');
  assert.match(path.basename(a), new RegExp(`^\\.x\\.gz\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
});

test('temporary files of processes that died mid-download are removed, those of live ones kept', (t) => {
  const dir = tempDir(t);
  const dest = path.join(dir, TRAIN_IMAGES);
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  const dead = path.join(dir, `.${TRAIN_IMAGES}.${deadPid}.abc123.tmp`);
  const live = temporaryPath(dest);
  const unrelated = path.join(dir, `.${DATA_FILES.testImages}.${deadPid}.abc123.tmp`);
  for (const file of [dead, live, unrelated]) fs.writeFileSync(file, 'partial');
  removeStaleTemporaryFiles(dest);
  assert.ok(!fs.existsSync(dead));
  assert.ok(fs.existsSync(live));
  assert.ok(fs.existsSync(unrelated), 'only the temporary files of this destination are touched');
});
