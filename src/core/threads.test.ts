import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';

/** What a fresh process with `env` decides: its pool sizes, and the TF_* sizes a foreign child gets. */
function decide(env: Record<string, string | undefined>): { threads: { intraOp: number; interOp: number }; own: Record<string, string>; foreign: Record<string, string> } {
  const base = { ...process.env };
  delete base.TF_NUM_INTRAOP_THREADS;
  delete base.TF_NUM_INTEROP_THREADS;
  delete base.FMNIST_TF_THREADS_DEFAULT;
  const script = `
    const t = require(${JSON.stringify(require.resolve('./threads'))});
    const pick = (e) => Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('TF_NUM_')));
    console.log(JSON.stringify({ threads: t.TF_THREADS, own: pick(process.env), foreign: pick(t.foreignEnv()) }));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...base, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('thread pools: by default each op gets half the cores and two ops run at once; a foreign program gets TensorFlow\'s defaults', (t) => {
  const cores = os.availableParallelism();
  if (cores < 2) return t.skip('one core: TensorFlow keeps its defaults');
  const d = decide({});
  assert.deepEqual(d.threads, { intraOp: Math.floor(cores / 2), interOp: 2 });
  assert.deepEqual(d.own, { TF_NUM_INTRAOP_THREADS: String(Math.floor(cores / 2)), TF_NUM_INTEROP_THREADS: '2' });
  assert.deepEqual(d.foreign, {}, 'the Keras reference runs with its own defaults');
});

test('thread pools: sizes set beforehand are kept, for this process and a foreign one; 0 means one per core', () => {
  const cores = os.availableParallelism();
  const set = decide({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
  assert.deepEqual(set.threads, { intraOp: 1, interOp: 1 });
  assert.deepEqual(set.foreign, { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
  assert.deepEqual(decide({ TF_NUM_INTEROP_THREADS: '0' }).threads, { intraOp: cores, interOp: cores });
});
