/**
 * `npm run tensorboard`: started through npm as a user starts it, it serves the runs that fit's
 * TensorBoard callback wrote, on 127.0.0.1 only, and a stop ends it with nothing left running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { TensorBoard } from '../src/training/callbacks';
import { Started, freePort, killEverything, listening, sleep, startTagged, tagged, tempDir, waitFor } from './support';

/** npm as `npm test` runs it (npm_execpath), else the one on PATH. */
function npm(args: string[]): Started {
  const cli = process.env.npm_execpath;
  return cli ? startTagged(process.execPath, [cli, ...args]) : startTagged('npm', args);
}

/** GETs JSON from TensorBoard, or undefined while it is not answering yet. */
async function getJson(url: string): Promise<unknown> {
  try {
    const r = await fetch(url);
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
}

test('npm run tensorboard serves the logged runs on 127.0.0.1 and ends with its command', { timeout: 180_000 }, async (t) => {
  const logs = tempDir(t);
  const callback = new TensorBoard({ logDir: path.join(logs, 'run-a') });
  callback.onTrainBegin({ validationSamples: 1 });
  const losses = [0.9, 0.6, 0.45];
  losses.forEach((loss, epoch) => callback.onEpochEnd(epoch, { loss, acc: 0.5 + epoch / 10, val_loss: loss + 0.1, val_acc: 0.5, seconds: 1 }, { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] }));
  callback.onTrainEnd();

  const port = await freePort();
  const run = npm(['run', 'tensorboard', '--', '--logdir', logs, '--port', String(port)]);
  try {
    const base = `http://127.0.0.1:${port}`;
    let runs: string[] | undefined;
    for (const deadline = Date.now() + 120_000; !runs && Date.now() < deadline; await sleep(500)) {
      const got = await getJson(`${base}/data/runs`);
      if (Array.isArray(got) && got.length >= 2) runs = got as string[];
    }
    assert.ok(runs, `TensorBoard did not list the runs on ${port}:\n${run.output().slice(-1500)}`);
    assert.deepEqual([...runs].sort(), ['run-a/train', 'run-a/validation']);
    const points = await getJson(`${base}/data/plugin/scalars/scalars?run=run-a%2Ftrain&tag=epoch_loss`) as Array<[number, number, number]>;
    assert.deepEqual(points.map(([, step, value]) => [step, value]), losses.map((loss, epoch) => [epoch, Math.fround(loss)]));
    // Bound to the loopback only: the machine's other addresses do not answer.
    const ss = spawnSync('sh', ['-c', `cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A"' | grep -i ":${port.toString(16).toUpperCase().padStart(4, '0')} "`], { encoding: 'utf8' });
    const local = ss.stdout.trim().split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[1].split(':')[0]);
    assert.ok(local.length > 0 && local.every((addr) => addr === '0100007F'), `listens on ${local.join(', ')}, not 127.0.0.1 only`);

    process.kill(run.child.pid!, 'SIGINT');
    const gone = await waitFor(() => tagged(run.tag).length === 0, 20_000, 100);
    assert.ok(gone, `left after SIGINT: ${JSON.stringify(tagged(run.tag))}`);
    assert.equal(await listening(port), false, `port ${port} is free again`);
  } finally {
    killEverything(run);
  }
});

test('npm run tensorboard refuses a bad flag in one line', () => {
  const r = spawnSync(process.execPath, [path.join(projectRoot(), 'dist', 'cli', 'tensorboard.js'), '--port', 'eighty'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), "error: --port eighty: must be an integer from 1 to 65535");
  const other = spawnSync(process.execPath, [path.join(projectRoot(), 'dist', 'cli', 'tensorboard.js'), '--host', '0.0.0.0'], { encoding: 'utf8' });
  assert.equal(other.status, 1);
  assert.match(other.stderr.trim(), /^error: --host: unknown option/);
});
