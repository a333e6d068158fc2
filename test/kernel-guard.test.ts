/**
 * scripts/kernel-guard.cjs is preloaded into every kernel with `node -r`. Its watcher thread must
 * not load it again: a Worker inherits the `-r` preloads, and each one started another watcher,
 * so the kernel kept gaining threads (and memory, and CPU time taken from training).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';

const GUARD = path.join(projectRoot(), 'scripts', 'kernel-guard.cjs');

/** Threads of a node process after it has been alive for `ms`, with and without the guard. */
function threadsAfter(ms: number, guard: boolean): number {
  const script = `setTimeout(() => console.log(require('node:fs').readdirSync('/proc/self/task').length), ${ms})`;
  const r = spawnSync(process.execPath, [...(guard ? ['-r', GUARD] : []), '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('kernel-guard adds one watcher thread, not one more every moment', { skip: !fs.existsSync('/proc/self/task') && 'needs /proc' }, () => {
  const bare = threadsAfter(1500, false);
  const guarded = threadsAfter(1500, true);
  // One Worker brings its own thread plus a few V8/libuv helpers; the runaway version had dozens
  // after 1.5 s.
  assert.ok(guarded - bare <= 4, `bare node has ${bare} threads, with the guard ${guarded}`);
});
