/**
 * The commands as users start them (`npm run <cmd> -- …`): one parser for all (`--help`,
 * `--name=value`, a misspelt flag), the checks made before any kernel or training starts (output
 * paths, notebooks, data, the models folder, paths taken from where the user typed the command),
 * errors raised inside an export's kernel shown as one clear line, and two exports to one report.
 * Every fault ends in one `error:` line naming the file or parameter, exit 1, and nothing left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { TAG_ENV, tagged, tempDir, waitFor } from './support';
import { randomBytes } from 'node:crypto';

const ROOT = projectRoot();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  leftovers: number;
}

/**
 * `npm --prefix <project> run <args>` from `cwd`, as a user in that folder types it (npm then sets
 * INIT_CWD to cwd). npm as `npm test` runs it (npm_execpath), else the one on PATH.
 */
function npm(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  const cli = process.env.npm_execpath;
  const full = ['--prefix', ROOT, '--silent', ...args];
  const tag = randomBytes(8).toString('hex');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cli ? process.execPath : 'npm', cli ? [cli, ...full] : full, {
      cwd: options.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0', ...options.env, [TAG_ENV]: tag },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, leftovers: tagged(tag).length });
    });
  });
}

/** TensorFlow's native library announces itself on stderr when it loads (at log level 0). */
const TENSORFLOW_LOADED = /oneDNN|TensorFlow\.js \d/;

/** The error contract: exit 1, exactly one `error:` line matching `pattern`, no stack trace of either language. */
function assertOneError(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 1, `exit 1\n${run.stdout}\n${run.stderr}`);
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.equal(errors.length, 1, run.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(run.stderr, /^\s+at \S.*[:(]/m, 'no JavaScript stack trace');
  assert.doesNotMatch(run.stderr, /Traceback \(most recent call last\)/, 'no Python traceback');
  assert.equal(run.leftovers, 0, 'no process of the run is left');
}

/** Every file and folder under dir, for "nothing was left behind". */
function listing(dir: string): string[] {
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : [];
}

/** A notebook of the given code cells, in a fresh folder inside the project (so `fmnist` resolves). */
function notebook(t: TestContext, cells: string[], name = 'probe.ipynb'): string {
  // .jupyter/ exists once any command has run; a fresh clone's first test may come before that.
  fs.mkdirSync(path.join(ROOT, '.jupyter'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, '.jupyter', 'checks-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'fmnist-ts', display_name: 'TypeScript', language: 'typescript' } },
      cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
    }),
  );
  return file;
}

const COMMANDS = [
  ['run', 'export'],
  ['run', 'tutorial'],
  ['run', 'full-run'],
  ['run', 'bench'],
  ['run', 'data'],
  ['start'],
];

test('--help and -h on every command: usage from its table, exit 0, TensorFlow never loaded', async () => {
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const run = await npm([...command, '--', flag]);
      const name = `npm ${command.join(' ')} -- ${flag}`;
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
      assert.match(run.stdout, /^usage: npm (run )?[a-z-]+/, name);
      assert.match(run.stdout, /^ {2}-h, --help +print this help and exit$/m, name);
      assert.doesNotMatch(run.stdout + run.stderr, TENSORFLOW_LOADED, `${name} loads no TensorFlow`);
    }
  }
  const exportHelp = (await npm(['run', 'export', '--', '--help'])).stdout;
  assert.match(exportHelp, /^ {2}--out FILE +where the HTML report goes/m);
  assert.match(exportHelp, /^ {2}--train-samples 60000 +training images used .*\(an integer from 1 to 60000\)$/m, 'hyperparameters with defaults');
  assert.match((await npm(['run', 'full-run', '--', '-h'])).stdout, /^ {2}--model case1\|case2\|vgg7 +.*required/m);
  assert.doesNotMatch((await npm(['run', 'data', '--', '-h'])).stdout, /--epochs/, 'data takes no hyperparameters');
});

test('--x=y, --x y, a misspelt flag and a bad value: one line repeating the flag as typed', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', 'full-run', '--', '--model=vgg8'], /^error: --model=vgg8: must be one of case1, case2, vgg7$/],
    [['run', 'full-run', '--', '--model', 'case1', '--threads=0'], /^error: --threads=0: must be an integer from 1 to 256$/],
    [['run', 'export', '--', 'notebooks/01-fashion-mnist-convnet.ipynb', '--epoch', '3'], /^error: --epoch: unknown option; did you mean --epochs\?/],
    [['run', 'export', '--', 'notebooks/01-fashion-mnist-convnet.ipynb', '--epochs=0'], /^error: --epochs=0: must be an integer from 1 to 1000$/],
    [['run', 'tutorial', '--', '--batch-size', 'big'], /^error: --batch-size big: must be a number$/],
    [['run', 'bench', '--', '--model=vgg8'], /^error: --model=vgg8: must be one of seed, vgg7$/],
    [['run', 'data', '--', '--epochs', '3'], /^error: --epochs: unknown option/],
  ];
  for (const [args, pattern] of cases) {
    const run = await npm(args);
    assertOneError(run, pattern);
    assert.doesNotMatch(run.stdout + run.stderr, TENSORFLOW_LOADED, `${args.join(' ')}: refused before TensorFlow loads`);
  }
});

test('export: bad output paths and notebooks are one line before any kernel, paths from where the user typed', async (t) => {
  const here = tempDir(t, 'fmnist-checks-');
  fs.writeFileSync(path.join(here, 'a-file'), '');
  fs.writeFileSync(path.join(here, 'not-json.ipynb'), '{"cells": [');
  fs.writeFileSync(path.join(here, 'v3.ipynb'), JSON.stringify({ nbformat: 3, worksheets: [] }));
  fs.writeFileSync(path.join(here, 'empty.ipynb'), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
  const good = path.join(ROOT, 'notebooks', '00-setup-check.ipynb');
  const before = listing(here);
  const reports = listing(path.join(ROOT, 'reports'));
  const cases: Array<[string[], RegExp]> = [
    [[good, '--out', '/proc/fmnist-no/x.html'], /^error: --out \/proc\/fmnist-no\/x\.html: cannot write in \/proc\/fmnist-no \(/],
    [[good, '--out=/proc/x.html'], /^error: --out \/proc\/x\.html: cannot write in \/proc \(/],
    [[good, '--out', here], new RegExp(`^error: --out ${here}: is a folder; give a file name`)],
    // Relative to the user's folder (INIT_CWD), not to the project root npm runs in.
    [[good, '--out', 'a-file/x.html'], new RegExp(`^error: --out ${here}/a-file/x\\.html: ${here}/a-file is a file, not a folder$`)],
    [['not-json.ipynb'], new RegExp(`^error: not-json\\.ipynb \\(${here}/not-json\\.ipynb\\): not a notebook, the file is not valid JSON`)],
    [['v3.ipynb'], /^error: v3\.ipynb .*: nbformat 3, expected 4$/],
    [['empty.ipynb'], /^error: empty\.ipynb .*: the notebook has no cells$/],
    [['missing.ipynb'], new RegExp(`^error: missing\\.ipynb \\(${here}/missing\\.ipynb\\): no such notebook$`)],
    [['a-file'], /^error: a-file .*: not a notebook \(\.ipynb\)$/],
  ];
  for (const [args, pattern] of cases) {
    const run = await npm(['run', 'export', '--', ...args], { cwd: here });
    assertOneError(run, pattern);
    assert.ok(run.ms < 15_000, `${args.join(' ')}: refused in ${run.ms} ms, before a kernel`);
  }
  assert.deepEqual(listing(here), before, 'nothing left in the user folder');
  assert.deepEqual(listing(path.join(ROOT, 'reports')), reports, 'nothing left in reports/');
  assert.equal(fs.existsSync('/proc/fmnist-no'), false);
});

test('missing data, an unwritable models or figures folder stop export, full-run and tutorial before any kernel or training', async (t) => {
  const here = tempDir(t, 'fmnist-checks-');
  const out = path.join(here, 'r.html');
  const noData = { FASHION_MNIST_DIR: path.join(here, 'no-data') };
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['run', 'export', '--', 'notebooks/01-fashion-mnist-convnet.ipynb', '--out', out], noData, /^error: .*no-data: no such folder \(given by FASHION_MNIST_DIR\)$/],
    [['run', 'export', '--', 'notebooks/02-beyond-the-seed.ipynb', '--out', out], { FMNIST_MODELS_DIR: '/proc/fmnist-models' }, /^error: models folder: cannot write in \/proc\/fmnist-models \(/],
    [['run', 'full-run', '--', '--model', 'case1', '--train-samples', '500'], { FMNIST_MODELS_DIR: '/proc/fmnist-models' }, /^error: models folder: cannot write in \/proc\/fmnist-models \(/],
    [['run', 'full-run', '--', '--model', 'case1', '--train-samples', '500'], { ...noData, FMNIST_MODELS_DIR: path.join(here, 'models') }, /^error: .*no-data: no such folder/],
    [['run', 'tutorial', '--', '--epochs', '1'], { FMNIST_PLOTS: 'files', FMNIST_FIGURES_DIR: '/proc/fmnist-figures' }, /^error: figures folder: cannot write in \/proc\/fmnist-figures \(/],
  ];
  for (const [args, env, pattern] of cases) {
    const run = await npm(args, { env });
    assertOneError(run, pattern);
    assert.doesNotMatch(run.stdout, /Epoch|\[export\] running/, `${args.join(' ')}: nothing ran`);
  }
  assert.deepEqual(listing(here), [], 'no report, no lock, no models folder');
});

test('an error inside the kernel is one line (cell and message); FMNIST_DEBUG=1 adds the stacks', { timeout: 180_000 }, async (t) => {
  const here = tempDir(t, 'fmnist-checks-');
  const out = path.join(here, 'r.html');
  const dataError = notebook(t, ['import * as fm from "fmnist";', 'const d = await fm.loadFashionMnist({ dir: "/nonexistent-fmnist" });']);
  const run = await npm(['run', 'export', '--', dataError, '--out', out], { timeoutMs: 120_000 });
  assertOneError(run, new RegExp(`^error: ${dataError}: cell 2 failed: DataError: /nonexistent-fmnist: no such folder \\(given by the dir option\\)$`));

  // A value of the wrong type in a hyperparameter cell (as any, since tslab type-checks the cell).
  const badType = notebook(t, ['import * as fm from "fmnist";\nconst hp = fm.hyperparameters({ epochs: "3" as any });']);
  const debug = await npm(['run', 'export', '--', badType, '--out', out], { env: { FMNIST_DEBUG: '1' }, timeoutMs: 120_000 });
  assert.equal(debug.code, 1);
  const errors = debug.stderr.split('\n').filter((line) => line.startsWith('error: '));
  assert.deepEqual(errors, [`error: ${badType}: cell 1 failed: ConfigError: hyperparameter epochs must be an integer from 1 to 1000, got "3"`]);
  assert.match(debug.stderr, /^\s+at validateHyperparameters /m, 'the JavaScript stack with FMNIST_DEBUG=1');
  assert.match(debug.stderr, /Traceback \(most recent call last\)/, "and Python's");
  assert.deepEqual(listing(here), [], 'no report, no temporary file, no lock');
});

test('two exports to one report: the second refuses naming the first; a stale lock is taken over; no lock is left', { timeout: 180_000 }, async (t) => {
  const here = tempDir(t, 'fmnist-checks-');
  const out = path.join(here, 'same.html');
  const slow = notebook(t, ['await new Promise((resolve) => setTimeout(resolve, 8000));\n"slept"']);
  const first = npm(['run', 'export', '--', slow, '--out', out], { timeoutMs: 150_000 });
  const lock = `${out}.lock`;
  assert.ok(await waitFor(() => fs.existsSync(lock), 30_000, 50), 'the first export holds the lock');
  const holder = fs.readFileSync(lock, 'utf8').trim();
  const second = await npm(['run', 'export', '--', slow, '--out', out]);
  assertOneError(second, new RegExp(`^error: ${out}: another export \\(process ${holder}\\) is writing this report; wait for it or choose another --out$`));
  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.match(fs.readFileSync(out, 'utf8'), /slept/, "the first user's report is whole");
  assert.equal(fs.existsSync(lock), false, 'the lock is removed when the export ends');

  // A lock left by a process killed outright (a pid that no longer runs) is taken over, saying so.
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.once('exit', resolve));
  fs.writeFileSync(lock, `${dead.pid}\n`);
  const bad = notebook(t, ['throw new Error("stop here");']);
  const third = await npm(['run', 'export', '--', bad, '--out', out], { timeoutMs: 120_000 });
  assert.match(third.stderr, new RegExp(`^\\[export\\] ${lock}: taking over the lock of process ${dead.pid}, which is no longer running$`, 'm'));
  assertOneError(third, /cell 1 failed: Error: stop here$/);
  assert.equal(fs.existsSync(lock), false, 'removed on the error path too');
  assert.deepEqual(listing(here), ['same.html', 'same.json']);
});

test('a stop signal during an export removes its lock', { timeout: 120_000 }, async (t) => {
  const here = tempDir(t, 'fmnist-checks-');
  const out = path.join(here, 'x.html');
  const slow = notebook(t, ['await new Promise((resolve) => setTimeout(resolve, 60000));']);
  const cli = process.env.npm_execpath;
  const args = ['run', 'export', '--', slow, '--out', out];
  const child = spawn(cli ? process.execPath : 'npm', cli ? [cli, ...args] : args, { cwd: ROOT, stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  assert.ok(await waitFor(() => fs.existsSync(`${out}.lock`), 30_000, 50), 'the lock is taken');
  process.kill(-child.pid!, 'SIGINT');
  await exited;
  assert.ok(await waitFor(() => !fs.existsSync(`${out}.lock`), 10_000, 100), 'the lock is gone after SIGINT');
  assert.deepEqual(listing(here), []);
});
