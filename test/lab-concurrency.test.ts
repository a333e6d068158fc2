/**
 * Two `npm start`s at the same moment each end up with a server of their own and print its real
 * URL (src/cli/lab.ts claims a port before Jupyter binds it); a port held by another program is
 * skipped; when they stop, no runtime file, token or port lock of theirs is left.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../src/core/paths';
import { Started, freePort, killEverything, startTagged, tagged, waitFor } from './support';

const ROOT = projectRoot();
const RUNTIME_DIR = path.join(ROOT, '.jupyter', 'runtime');
const PORT_LOCKS = path.join(ROOT, '.jupyter', 'ports');
const URL_LINE = /^\[start\] JupyterLab on (http:\/\/127\.0\.0\.1:(\d+)\/)lab\?token=([0-9a-f]+) /m;

function npmStart(env: NodeJS.ProcessEnv): Started {
  const cli = process.env.npm_execpath;
  const args = ['start', '--', '--no-browser'];
  return cli ? startTagged(process.execPath, [cli, ...args], env) : startTagged('npm', args, env);
}

const runtimeFiles = () => (fs.existsSync(RUNTIME_DIR) ? fs.readdirSync(RUNTIME_DIR).filter((f) => f !== 'jupyter_cookie_secret').sort() : []);

/** The HTTP status of GET url. */
async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

test('two npm start at once: each prints its own working URL, a busy port is skipped, nothing is left', { timeout: 180_000 }, async (t) => {
  const before = runtimeFiles();
  // A range of three free ports, the first held by a program that is not Jupyter.
  let first = 0;
  for (let tries = 0; tries < 20 && !first; tries++) {
    const p = await freePort();
    const free = await Promise.all([1, 2].map((d) => new Promise<boolean>((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(p + d, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (free.every(Boolean)) first = p;
  }
  assert.ok(first, 'three free ports in a row');
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(first, '127.0.0.1', resolve));
  t.after(() => squatter.close());

  const tokens = ['a'.repeat(48), 'b'.repeat(48)];
  const runs = tokens.map((token) => npmStart({ FMNIST_LAB_PORT: String(first), FMNIST_LAB_TOKEN: token }));
  t.after(() => runs.forEach(killEverything));
  const urls = await Promise.all(runs.map((run) => waitFor(() => URL_LINE.exec(run.output()) ?? undefined, 120_000, 200)));
  for (const [i, m] of urls.entries()) assert.ok(m, `no URL line from run ${i}:\n${runs[i].output().slice(-2000)}`);
  const [a, b] = urls as RegExpExecArray[];
  assert.deepEqual([a[3], b[3]], tokens, 'each prints its own token');
  assert.notEqual(a[2], b[2], 'two ports');
  assert.deepEqual([Number(a[2]), Number(b[2])].sort(), [first + 1, first + 2], 'the busy port is skipped, then one port each');
  // Whichever run takes the busy port's lock first finds the other program on it; the second run
  // finds either that program too or, while the first still holds the lock, the other npm start.
  for (const run of runs) assert.match(run.output(), new RegExp(`port ${first} is (in use by another program|taken by another npm start)`));
  assert.ok(runs.some((run) => run.output().includes(`port ${first} is in use by another program`)), 'one run found the other program on the port');
  // Each URL is a live server that takes its own token and refuses the other's.
  for (const [m, other] of [[a, b], [b, a]]) {
    assert.equal(await status(`${m[1]}api/status?token=${m[3]}`), 200, `${m[0]} answers with its token`);
    assert.equal(await status(`${m[1]}api/status?token=${other[3]}`), 403, `${m[0]} refuses the other token`);
  }

  for (const run of runs) process.kill(-run.child.pid!, 'SIGTERM');
  const gone = await waitFor(() => runs.every((run) => tagged(run.tag).length === 0), 15_000, 100);
  assert.ok(gone, `processes left: ${JSON.stringify(runs.map((r) => tagged(r.tag)))}`);
  assert.deepEqual(runtimeFiles(), before, 'no runtime file (with its token) is left');
  for (const port of [first, first + 1, first + 2]) assert.equal(fs.existsSync(path.join(PORT_LOCKS, `${port}.lock`)), false, `no lock for port ${port}`);
});
