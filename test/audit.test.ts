/**
 * scripts/audit.mjs (`npm run audit`). Its fallback, package-lock.json checked against the
 * committed advisory list: a lock fixture holding the versions nodeplotlib 1.1.2 pulled in before
 * the overrides must fail, the same tree at the overridden versions must pass, and so must the
 * project's own lock, so that dropping an override from package.json turns this test red. Its
 * first source, npm audit, is played by a stand-in npm that prints a report or a refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../src/core/paths';
import { tempDir } from './support';

const SCRIPT = path.join(projectRoot(), 'scripts', 'audit.mjs');

function audit(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: projectRoot(), env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * A stand-in for npm's CLI that prints `report` as `npm audit --json` would (exit 1, as npm does
 * on findings and on errors); audit.mjs runs whatever npm_execpath names, as under `npm run`.
 */
function fakeNpm(dir: string, report: unknown): NodeJS.ProcessEnv {
  const cli = path.join(dir, 'npm-cli.js');
  fs.writeFileSync(cli, `process.stdout.write(${JSON.stringify(JSON.stringify(report))}); process.exitCode = 1;\n`);
  return { npm_execpath: cli };
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
  const r = audit(['--offline', '--lock', lock]);
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
  const r = audit(['--offline', '--lock', lock]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ok: no high or critical advisory/);
});

test("audit --offline passes the project's package-lock.json", () => {
  const r = audit(['--offline']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /against package-lock\.json \(\d{3,} packages\)/);
});

test('audit names the entry of a broken advisory list and exits 2', (t) => {
  const dir = tempDir(t);
  const lock = writeLock(dir, { 'node_modules/ws': '8.23.0' });
  const list = path.join(dir, 'advisories.json');
  fs.writeFileSync(list, JSON.stringify({ advisories: [{ id: 'GHSA-x', package: 'ws', vulnerable: 'not a range', fixed: '1', severity: 'high', url: 'u' }] }));
  const r = audit(['--offline', '--lock', lock, '--advisories', list]);
  assert.equal(r.code, 2, r.out);
  assert.equal(r.out.trim().split('\n').length, 1, r.out);
  assert.match(r.out, /advisories\[0\] \(GHSA-x\): 'not a range' is not a semver range/);
});

test("audit reports the audit service's high findings when it answers, and fails", (t) => {
  const env = fakeNpm(tempDir(t), {
    auditReportVersion: 2,
    vulnerabilities: { multer: { name: 'multer', severity: 'high', range: '<2.0.0', via: [{ title: 'Multer DoS', url: 'https://github.com/advisories/GHSA-4pg4-qvpc-4q3h' }] } },
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 1, critical: 0, total: 1 } },
  });
  const r = audit([], env);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /source: npm audit/);
  assert.match(r.out, /high: multer <2\.0\.0: Multer DoS/);
  assert.doesNotMatch(r.out, /advisories\.json/, 'the committed list is not read when the service answers');
});

test('audit falls back to the committed list when the audit service refuses (405) and says so', (t) => {
  const env = fakeNpm(tempDir(t), { message: '405 Method Not Allowed - POST https://example.invalid/-/npm/v1/security/advisories/bulk', statusCode: 405 });
  const r = audit([], env);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /source: scripts\/advisories\.json .* because the audit service did not answer \(405 Method Not Allowed - POST <audit endpoint>\)/);
});
