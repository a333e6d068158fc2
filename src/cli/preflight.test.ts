import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { PreflightError, checkNotebook, checkOutputFile, checkWritableFolder, lockOutput, takeLock, userPath } from './preflight';

function temp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-preflight-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pid that ran and has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('paths are taken from INIT_CWD when npm set it, else from the working folder', () => {
  assert.equal(userPath('a/b.html', { INIT_CWD: '/somewhere' }), '/somewhere/a/b.html');
  assert.equal(userPath('/abs.html', { INIT_CWD: '/somewhere' }), '/abs.html');
  assert.equal(userPath('b.html', {}), path.join(process.cwd(), 'b.html'));
  assert.equal(userPath('b.html', { INIT_CWD: 'relative' }), path.join(process.cwd(), 'b.html'), 'a relative INIT_CWD is not trusted');
});

test('checking a folder that does not exist yet creates nothing that stays', (t) => {
  const dir = temp(t);
  checkWritableFolder(path.join(dir, 'a', 'b', 'c'), 'x');
  assert.deepEqual(fs.readdirSync(dir), []);
  checkOutputFile(path.join(dir, 'new', 'r.html'), '--out');
  assert.deepEqual(fs.readdirSync(dir), []);
  assert.throws(() => checkOutputFile(dir, '--out'), (e: unknown) => e instanceof PreflightError && /is a folder/.test(e.message));
});

test('notebooks: the first problem, in one line', (t) => {
  const dir = temp(t);
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const cases: Array<[string, RegExp]> = [
    [write('a.ipynb', '{'), /not valid JSON/],
    [write('b.ipynb', '[]'), /the JSON is not an object/],
    [write('c.ipynb', '{"nbformat": 4, "cells": [{"cell_type": "code"}]}'), /cell 1 is not a notebook cell/],
    [write('d.ipynb', '{"nbformat": 4}'), /has no cells/],
  ];
  for (const [file, pattern] of cases) assert.throws(() => checkNotebook(file), (e: unknown) => e instanceof PreflightError && pattern.test(e.message) && !e.message.includes('\n'));
  const good = write('e.ipynb', JSON.stringify({ nbformat: 4, cells: [{ cell_type: 'code', source: ['1'] }] }));
  assert.equal(checkNotebook(good).cells.length, 1);
});

test('a lock: taken once, refused while its holder lives, taken over from a dead one, released', (t) => {
  const dir = temp(t);
  const report = path.join(dir, 'r.html');
  const lines: string[] = [];
  const release = lockOutput(report, (l) => lines.push(l));
  assert.equal(fs.readFileSync(`${report}.lock`, 'utf8').trim(), String(process.pid));
  // This process holds it, and lives: a second taker is refused naming it.
  assert.throws(() => lockOutput(report, () => {}), new RegExp(`another export \\(process ${process.pid}\\)`));
  assert.deepEqual(fs.readdirSync(dir), ['r.html.lock'], "the refused taker's own pid file is gone");
  release();
  assert.equal(fs.existsSync(`${report}.lock`), false);

  const dead = deadPid();
  fs.writeFileSync(`${report}.lock`, `${dead}\n`);
  const again = takeLock(`${report}.lock`, (l) => lines.push(l));
  assert.equal(typeof again, 'function');
  assert.deepEqual(lines, [`${report}.lock: taking over the lock of process ${dead}, which is no longer running`]);
  (again as () => void)();
  assert.deepEqual(fs.readdirSync(dir), [], 'no lock, no pid file and no renamed-aside file left');
});
