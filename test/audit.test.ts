/**
 * scripts/audit.mjs's fallback (`--offline`): package-lock.json checked against the committed
 * advisory list. A lock fixture holding the versions nodeplotlib 1.1.2 pulled in before the
 * overrides must fail, the same tree at the overridden versions must pass, and so must the
 * project's own lock, so that dropping an override from package.json turns this test red.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../src/core/paths';
import { tempDir } from './support';

const SCRIPT = path.join(projectRoot(), 'scripts', 'audit.mjs');

function audit(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--offline', ...args], { cwd: projectRoot(), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A lockfileVersion 3 lock with the given packages at the given install paths. */
function writeLock(dir: string, packages: Record<string, string>): string {
  const lock = {
    name: 'fixture',
    lockfileVersion: 3,
    packages: {
      '': { name: 'fixture' },
      'node_modules/fmnist': { resolved: 'src', link: true },
      ...Object.fromEntries(Object.entries(packages).map(([where, version]) => [where, { version }])),
    },
  };
  const file = path.join(dir, 'package-lock.json');
  fs.writeFileSync(file, JSON.stringify(lock));
  return file;
}

test('audit --offline fails on the vulnerable versions nodeplotlib 1.1.2 brought, pre-releases included', (t) => {
  const lock = writeLock(tempDir(t), {
    'node_modules/multer': '1.4.4-lts.1',
    'node_modules/express/node_modules/path-to-regexp': '0.1.7',
    'node_modules/@nestjs/core/node_modules/path-to-regexp': '3.2.0',
    'node_modules/ws': '8.2.3',
    'node_modules/semver': '7.8.6',
  });
  const r = audit(['--lock', lock]);
  assert.equal(r.code, 1, r.out);
  // multer's pre-release version only matches when pre-releases count.
  assert.match(r.out, /high: multer@1\.4\.4-lts\.1 \(node_modules\/multer\) is in GHSA-fjgf-rc76-4x9p's range/);
  assert.match(r.out, /path-to-regexp@0\.1\.7 \(node_modules\/express\/node_modules\/path-to-regexp\) is in GHSA-rhx6-c78j-4q9w/);
  assert.match(r.out, /path-to-regexp@3\.2\.0 .* is in GHSA-9wv6-86v2-598j/);
  assert.match(r.out, /ws@8\.2\.3 .* is in GHSA-3h5v-q93c-6h6q/);
  assert.doesNotMatch(r.out, /semver@/, 'a package without an advisory is not reported');
  assert.match(r.out, /source: .*advisories\.json .* because --offline was given/);
  assert.match(r.out, /FAILED: \d+ high or critical/);
});

test('audit --offline passes the same tree at the overridden versions', (t) => {
  const lock = writeLock(tempDir(t), {
    'node_modules/multer': '2.5.0',
    'node_modules/path-to-regexp': '0.1.13',
    'node_modules/@nestjs/core/node_modules/path-to-regexp': '3.3.0',
    'node_modules/ws': '8.23.0',
  });
  const r = audit(['--lock', lock]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ok: no high or critical advisory/);
});

test("audit --offline passes the project's package-lock.json", () => {
  const r = audit([]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /against package-lock\.json \(\d{3,} packages\)/);
});

test('audit names the entry of a broken advisory list and exits 2', (t) => {
  const dir = tempDir(t);
  const lock = writeLock(dir, { 'node_modules/ws': '8.23.0' });
  const list = path.join(dir, 'advisories.json');
  fs.writeFileSync(list, JSON.stringify({ advisories: [{ id: 'GHSA-x', package: 'ws', vulnerable: 'not a range', fixed: '1', severity: 'high', url: 'u' }] }));
  const r = audit(['--lock', lock, '--advisories', list]);
  assert.equal(r.code, 2, r.out);
  assert.equal(r.out.trim().split('\n').length, 1, r.out);
  assert.match(r.out, /advisories\[0\] \(GHSA-x\): 'not a range' is not a semver range/);
});
