import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { projectRoot } from '../src/core/paths';
import { DATA_FILES, DEFAULT_SYSTEM_DIR } from '../src/data/load';
import { tempDir as sharedTempDir } from './support';

const CLI = path.join(projectRoot(), 'dist', 'cli', 'data.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/data.js` with only the data variables given here (plus PATH and HOME). */
function runCli(vars: Record<string, string>, timeoutMs = 20000): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...vars };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tempDir = (t: TestContext) => sharedTempDir(t, 'fmnist-cli-');

/**
 * The error contract: exactly one `error:` line on stderr, no stack trace. TensorFlow's native
 * library may print its own start-up notices on stderr, so other lines are not counted.
 */
function assertOneErrorLine(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.equal(errors.length, 1, run.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(run.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
  assert.match(run.stdout.split('\n')[0], /^TensorFlow\.js .* · backend /, 'the backend banner comes first');
}

const hasSystemCopy = (): boolean => Object.values(DATA_FILES).every((name) => fs.existsSync(path.join(DEFAULT_SYSTEM_DIR, name)));

test('a damaged folder: exit code 1 and one error line naming the file', { timeout: 20000 }, async (t) => {
  const dir = tempDir(t);
  for (const name of Object.values(DATA_FILES)) fs.writeFileSync(path.join(dir, name), '');
  const run = await runCli({ FASHION_MNIST_DIR: dir });
  assertOneErrorLine(run, new RegExp(`^error: ${dir}/train-labels-idx1-ubyte\\.gz: empty file \\(0 bytes\\)$`));

  const missing = path.join(dir, 'missing');
  assertOneErrorLine(await runCli({ FASHION_MNIST_DIR: missing }), /^error: .*\/missing: no such folder \(given by FASHION_MNIST_DIR\)$/);
});

test('a corrupt copy of the official data: the checksum catches one flipped bit', { timeout: 20000 }, async (t) => {
  if (!hasSystemCopy()) {
    t.skip(`no system copy in ${DEFAULT_SYSTEM_DIR}`);
    return;
  }
  const dir = tempDir(t);
  for (const name of Object.values(DATA_FILES)) fs.symlinkSync(path.join(DEFAULT_SYSTEM_DIR, name), path.join(dir, name));
  // The labels are read first, so the run stops before the large image files are touched.
  const name = DATA_FILES.testLabels;
  const bytes = fs.readFileSync(path.join(DEFAULT_SYSTEM_DIR, name));
  bytes[bytes.length >> 1] ^= 0x10;
  fs.rmSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name), bytes);
  const run = await runCli({ FASHION_MNIST_DIR: dir });
  assertOneErrorLine(run, new RegExp(`^error: ${path.join(dir, name)}: (corrupt gzip data|SHA-256 mismatch)`));
});

test('two CLI processes downloading at once from a mirror both succeed and leave a correct cache', { timeout: 30000 }, async (t) => {
  if (!hasSystemCopy()) {
    t.skip(`no system copy in ${DEFAULT_SYSTEM_DIR} to serve as the mirror's files`);
    return;
  }
  const cache = tempDir(t);
  const files = new Map(Object.values(DATA_FILES).map((name) => [name, fs.readFileSync(path.join(DEFAULT_SYSTEM_DIR, name))]));
  const server = http.createServer((req, res) => {
    const body = files.get(path.basename(req.url ?? ''));
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const vars = {
      FASHION_MNIST_MIRROR: `http://127.0.0.1:${port}/`,
      FASHION_MNIST_CACHE_DIR: cache,
      FASHION_MNIST_SYSTEM_DIR: path.join(cache, 'no-system-copy'),
    };
    const runs = await Promise.all([runCli(vars, 28000), runCli(vars, 28000)]);
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      const out = run.stdout;
      assert.match(out.split('\n')[0], /^TensorFlow\.js .* · backend /);
      assert.match(out, new RegExp(`Fashion-MNIST from a fresh download, now in the cache: ${cache}`));
      assert.match(out, /train-images-idx3-ubyte\.gz\s+26,421,856 bytes \(47,040,016 unpacked\)\s+sha256 ok/);
      assert.equal((out.match(/sha256 ok/g) ?? []).length, 4);
      assert.match(out, /train\s+60,000 images \(60000, 28, 28\), labels \(60000,\)/);
      assert.match(out, /test\s+10,000 images \(10000, 28, 28\), labels \(10000,\)/);
      assert.match(out, /6,000 \/ 1,000 {2}9 부츠 \(Ankle boot\)/);
      assert.match(out, /first ten training labels: 9 0 0 3 0 2 7 2 5 5\n {2}9 부츠 \(Ankle boot\)\n {2}0 티셔츠\/상의 \(T-shirt\/top\)/);
      assert.match(out, /mean training pixel: 0\.2860 /);
      // Progress goes to stderr, as plain lines because it is not a terminal here.
      assert.match(run.stderr, /downloading http:\/\/127\.0\.0\.1:\d+\/train-images-idx3-ubyte\.gz/);
      assert.doesNotMatch(run.stderr, /\r/);
    }
    assert.deepEqual(fs.readdirSync(cache).sort(), Object.values(DATA_FILES).sort(), 'the four files and no temporary ones');
    for (const [name, body] of files) assert.ok(fs.readFileSync(path.join(cache, name)).equals(body), name);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
