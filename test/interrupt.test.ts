/**
 * Ctrl-C in the middle of training: `npm run export` and `npm run tutorial` stop within seconds,
 * exit non-zero, and leave nothing behind: no kernel, no Python runner, no half-written report or
 * figure, no open port. Each command runs in a process group of its own and gets SIGINT either
 * alone (what its parent or `kill -INT` sends; the command must pass it on to its children) or as
 * the whole group (what a terminal's Ctrl-C sends).
 *
 * Every process a test starts carries a tag in its environment; the kernel inherits it too even
 * though Jupyter starts kernels in a session of their own. "Nothing left" is checked by that tag,
 * so kernels of other Jupyter sessions on the machine do not disturb the count, and the finally
 * blocks kill exactly the tagged processes that are still there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { Started, TAG_ENV, alive, freePort, killEverything, listening, processes, readProc, sleep, startTagged, tagged, waitFor } from './support';

const ROOT = projectRoot();
const EXPORT = path.join(ROOT, 'dist', 'cli', 'export.js');
const TUTORIAL = path.join(ROOT, 'dist', 'cli', 'tutorial.js');
const NOTEBOOK = 'notebooks/01-fashion-mnist-convnet.ipynb';
/** How long a command may take to exit after the signal. */
const EXIT_LIMIT_MS = 10_000;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Seconds of CPU the process has used (user + system). */
function cpuSeconds(pid: number): number {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** PIDs of the tslab kernels on this machine, whoever started them. */
function kernelPids(): number[] {
  return processes().filter((p) => p.cmdline.includes('tslab/bin/tslab kernel')).map((p) => p.pid);
}

/** Starts a command (a script of dist/) as the leader of a new process group, tagged. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): Started {
  return startTagged(process.execPath, args, env);
}

/** Sends SIGINT to the command alone or to its whole group; resolves with the exit and how long it took. */
async function interrupt(run: Started, target: 'process' | 'group') {
  const pid = run.child.pid!;
  assert.equal(run.child.exitCode, null, `the command ended before the signal:\n${run.output()}`);
  const sent = Date.now();
  process.kill(target === 'group' ? -pid : pid, 'SIGINT');
  const result = await Promise.race([run.exited, sleep(EXIT_LIMIT_MS + 5000).then(() => undefined)]);
  assert.ok(result, `no exit within ${(EXIT_LIMIT_MS + 5000) / 1000} s of SIGINT:\n${run.output().slice(-2000)}`);
  const ms = result.at - sent;
  assert.ok(ms <= EXIT_LIMIT_MS, `exited ${ms} ms after SIGINT (limit ${EXIT_LIMIT_MS} ms)`);
  assert.ok(result.code !== 0, `exit code ${result.code} after SIGINT`);
  return { ...result, ms };
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f === 'x.html' || f.endsWith('.tmp'));
}

for (const target of ['process', 'group'] as const) {
  test(`export: SIGINT to the ${target} during training stops kernel and runner, writes nothing`, { timeout: 200_000 }, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-int-'));
    const out = path.join(dir, 'x.html');
    const kernelsBefore = kernelPids();
    const run = start([EXPORT, NOTEBOOK, '--epochs', '30', '--train-samples', '6000', '--out', out]);
    try {
      const procs = await waitFor(() => {
        const all = tagged(run.tag);
        const python = all.find((p) => p.cmdline.includes('export_notebook.py'));
        const kernel = all.find((p) => p.cmdline.includes('tslab kernel'));
        return python && kernel ? { python, kernel } : undefined;
      }, 90_000);
      assert.ok(procs, `no kernel started within 90 s:\n${run.output().slice(-2000)}`);
      // Training has begun once the kernel has used about 15 s of CPU: starting up, compiling
      // the cells and loading the data take about 9 s; 30 epochs on 6,000 images keep it
      // training well past the signal (about 2 CPU s per epoch with the graph step). CPU time,
      // unlike wall time, does not depend on load.
      const cpu = await waitFor(() => (cpuSeconds(procs.kernel.pid) >= 15 ? cpuSeconds(procs.kernel.pid) : undefined), 150_000, 250);
      assert.ok(cpu, `the kernel did not reach training within 150 s:\n${run.output().slice(-2000)}`);
      const result = await interrupt(run, target);
      t.diagnostic(`exit ${result.code ?? result.signal} ${result.ms} ms after SIGINT (kernel at ${cpu.toFixed(1)} CPU s)`);
      assert.equal(result.code, 130, 'exit code 130, as for Ctrl-C');
      assert.match(run.output(), /export: interrupted/);
      // The runner waits for the kernel's shutdown before it exits; allow a moment for /proc.
      const gone = await waitFor(() => tagged(run.tag).length === 0, 3000);
      assert.ok(gone, `processes left: ${JSON.stringify(tagged(run.tag))}`);
      assert.equal(alive(procs.kernel.pid), false, 'the kernel is stopped');
      assert.equal(alive(procs.python.pid), false, 'the Python runner is stopped');
      const newKernels = kernelPids().filter((pid) => !kernelsBefore.includes(pid));
      assert.ok(!newKernels.includes(procs.kernel.pid));
      assert.deepEqual(leftovers(dir), [], 'no report and no temporary file');
    } finally {
      killEverything(run);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Waits for the tutorial to reach training: the fit step printed, then a moment for the first batches. */
async function untilTraining(run: Started): Promise<void> {
  const reached = await waitFor(() => run.output().includes('⑧ 학습 / Fit') || run.child.exitCode !== null, 90_000);
  assert.ok(reached && run.child.exitCode === null, `the tutorial did not reach training:\n${run.output().slice(-2000)}`);
  await sleep(2000);
}

for (const target of ['process', 'group'] as const) {
  test(`tutorial, files mode: SIGINT to the ${target} during training exits at once, no half-written figure`, { timeout: 120_000 }, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-int-'));
    const run = start([TUTORIAL, '--epochs', '30', '--train-samples', '6000'], { FMNIST_PLOTS: 'files', FMNIST_FIGURES_DIR: dir });
    try {
      await untilTraining(run);
      const result = await interrupt(run, target);
      t.diagnostic(`exit ${result.code ?? result.signal} ${result.ms} ms after SIGINT`);
      assert.equal(result.code, 130, 'exit code 130, as for Ctrl-C');
      assert.equal(await waitFor(() => tagged(run.tag).length === 0, 3000), true, `processes left: ${JSON.stringify(tagged(run.tag))}`);
      const files = fs.readdirSync(dir);
      assert.deepEqual(files.filter((f) => f.endsWith('.tmp')), [], 'no temporary figure file');
      assert.ok(files.length >= 2, `the figures before training were written: ${files.join(', ')}`);
      for (const f of files) assert.match(fs.readFileSync(path.join(dir, f), 'utf8'), /<\/html>\n$/, `${f} is complete`);
    } finally {
      killEverything(run);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const target of ['process', 'group'] as const) {
  test(`tutorial, nodeplotlib: SIGINT to the ${target} while the figures are served closes the server and leaves no child`, { timeout: 120_000 }, async (t) => {
    const port = await freePort();
    // nodeplotlib's server starts once the script's work is done (display.ts hands it the figures
    // at 'beforeExit') and then keeps the process alive; a short training gets there well within
    // the wait below even on a loaded machine, where 30 epochs did not.
    const run = start([TUTORIAL, '--epochs', '3', '--train-samples', '2000'], { FMNIST_PLOTS: 'nodeplotlib', NODEPLOTLIB_PORT: String(port) });
    try {
      const up = await waitFor(() => run.output().includes('Server running at') || run.child.exitCode !== null, 90_000);
      assert.ok(up && run.child.exitCode === null, `nodeplotlib's server did not start:\n${run.output().slice(-2000)}`);
      assert.equal(await listening(port), true, `nodeplotlib listens on ${port}`);
      await untilTraining(run);
      const result = await interrupt(run, target);
      t.diagnostic(`exit ${result.code ?? result.signal} ${result.ms} ms after SIGINT`);
      assert.equal(result.code, 130, 'exit code 130, as for Ctrl-C');
      assert.equal(await waitFor(() => tagged(run.tag).length === 0, 3000), true, `processes left: ${JSON.stringify(tagged(run.tag))}`);
      assert.equal(await listening(port), false, `nothing listens on ${port} any more`);
    } finally {
      killEverything(run);
    }
  });
}
