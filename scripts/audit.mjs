#!/usr/bin/env node
// `npm run audit`: fails (exit 1) when an installed package has a published advisory of high or
// critical severity.
//
// It asks the registry's audit service first (`npm audit --audit-level=high --json`). Where that
// service cannot be reached, or refuses the request (some registry mirrors and proxies answer its
// bulk endpoint with 405 Method Not Allowed), it checks package-lock.json against
// scripts/advisories.json instead: advisories from GitHub's advisory database, copied by hand for
// the packages this project's lock holds, each with the vulnerable range as published. That list
// is a snapshot (its `updated` field says of when), so the fallback only catches what was known
// then; the report says which source it used.
//
// Usage: node scripts/audit.mjs [--offline] [--lock <package-lock.json>] [--advisories <file>]
//   --offline      skip the audit service and check the lock against the list directly
//   --lock         the lock file to check (default: the project's package-lock.json)
//   --advisories   the advisory list (default: scripts/advisories.json)
// Exit status: 0 nothing high or critical, 1 something high or critical, 2 the check itself failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BLOCKING = new Set(['high', 'critical']);
const SEVERITIES = new Set(['low', 'moderate', 'high', 'critical']);

class AuditError extends Error {}

function parseArgs(argv) {
  const opts = {
    offline: false,
    lock: path.join(root, 'package-lock.json'),
    advisories: path.join(root, 'scripts', 'advisories.json'),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--offline') opts.offline = true;
    else if (arg === '--lock' || arg === '--advisories') {
      const value = argv[i + 1];
      if (!value || value.startsWith('--')) throw new AuditError(`${arg} needs a file`);
      opts[arg.slice(2)] = path.resolve(value);
      i += 1;
    } else throw new AuditError(`unknown argument '${arg}' (use --offline, --lock <file>, --advisories <file>)`);
  }
  return opts;
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuditError(`${file}: cannot read the ${what} (${err.code ?? err.message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AuditError(`${file}: the ${what} is not valid JSON (${err.message})`);
  }
}

/** semver from the project's own dependencies (it is in the lock through patch-package). */
function loadSemver() {
  try {
    return createRequire(path.join(root, 'package.json'))('semver');
  } catch {
    throw new AuditError('the semver package is missing from node_modules; run npm install first');
  }
}

/** The advisory list, checked entry by entry so that a typo is named rather than ignored. */
export function loadAdvisories(file, semver) {
  const doc = readJson(file, 'advisory list');
  if (!doc || !Array.isArray(doc.advisories)) throw new AuditError(`${file}: expected an object with an "advisories" array`);
  doc.advisories.forEach((a, i) => {
    const where = `${file}: advisories[${i}]${a && a.id ? ` (${a.id})` : ''}`;
    for (const field of ['id', 'package', 'vulnerable', 'fixed', 'severity', 'url']) {
      if (typeof a?.[field] !== 'string' || a[field] === '') throw new AuditError(`${where}: "${field}" must be a non-empty string`);
    }
    if (!SEVERITIES.has(a.severity)) throw new AuditError(`${where}: severity '${a.severity}' is not one of ${[...SEVERITIES].join(', ')}`);
    if (semver.validRange(a.vulnerable) === null) throw new AuditError(`${where}: '${a.vulnerable}' is not a semver range`);
  });
  return doc;
}

/** name@version of every installed package in a v2/v3 lock (links and the root excluded). */
export function lockedPackages(lock, file) {
  if (!lock || typeof lock.packages !== 'object') {
    throw new AuditError(`${file}: no "packages" map (a lockfileVersion 2 or 3 lock is needed; npm 7 and later write one)`);
  }
  const found = [];
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where === '' || entry.link || typeof entry.version !== 'string') continue;
    const m = where.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)$/);
    if (!m) continue;
    found.push({ name: entry.name ?? m[1], version: entry.version, where, dev: Boolean(entry.dev) });
  }
  return found;
}

/**
 * The advisories whose vulnerable range holds an installed version. Pre-releases count
 * (includePrerelease): multer's 1.4.4-lts.1, for one, sits inside '<2.0.0' and must be caught.
 */
export function matchAdvisories(packages, advisories, semver) {
  const byName = new Map();
  for (const a of advisories) byName.set(a.package, [...(byName.get(a.package) ?? []), a]);
  const hits = [];
  for (const pkg of packages) {
    for (const a of byName.get(pkg.name) ?? []) {
      if (semver.valid(pkg.version) && semver.satisfies(pkg.version, a.vulnerable, { includePrerelease: true })) hits.push({ pkg, advisory: a });
    }
  }
  return hits;
}

function checkLock(opts, why) {
  const semver = loadSemver();
  const list = loadAdvisories(opts.advisories, semver);
  const packages = lockedPackages(readJson(opts.lock, 'lock file'), opts.lock);
  const hits = matchAdvisories(packages, list.advisories, semver);
  console.log(`[audit] source: ${path.relative(process.cwd(), opts.advisories) || opts.advisories} ` +
    `(${list.advisories.length} advisories, updated ${list.updated ?? 'unknown'}) against ` +
    `${path.relative(process.cwd(), opts.lock) || opts.lock} (${packages.length} packages)${why ? `, because ${why}` : ''}`);
  for (const { pkg, advisory: a } of hits) {
    console.log(`[audit] ${a.severity}: ${pkg.name}@${pkg.version} (${pkg.where}${pkg.dev ? ', dev' : ''}) ` +
      `is in ${a.id}'s range ${a.vulnerable}; fixed in ${a.fixed}: ${a.url}`);
  }
  return hits.filter((h) => BLOCKING.has(h.advisory.severity)).length;
}

/** npm's own CLI: the one running this script under `npm run`, else npm on PATH. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli) && fs.existsSync(cli)) return [process.execPath, [cli]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}

/** Runs `npm audit`; returns the count of high/critical findings, or {unreachable} with the reason. */
function askAuditService() {
  const [cmd, pre] = npmCommand();
  const r = spawnSync(cmd, [...pre, 'audit', '--audit-level=high', '--json'], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000,
  });
  if (r.error) return { unreachable: `npm audit could not run (${r.error.message})` };
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    return { unreachable: `npm audit printed no report (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
  }
  if (!report.metadata || !report.vulnerabilities) {
    const reason = report.message ?? report.error?.summary ?? `exit ${r.status}`;
    return { unreachable: `the audit service did not answer (${String(reason).replace(/https?:\/\/\S+/g, '<audit endpoint>')})` };
  }
  const counts = report.metadata.vulnerabilities;
  console.log(`[audit] source: npm audit (the registry's audit service): ${JSON.stringify(counts)}`);
  for (const [name, v] of Object.entries(report.vulnerabilities)) {
    if (!BLOCKING.has(v.severity)) continue;
    const titles = (v.via ?? []).filter((x) => typeof x === 'object').map((x) => `${x.title} ${x.url}`);
    console.log(`[audit] ${v.severity}: ${name} ${v.range}${titles.length ? `: ${titles.join('; ')}` : ' (through a dependency)'}`);
  }
  return { blocking: (counts.high ?? 0) + (counts.critical ?? 0) };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let blocking;
  if (opts.offline) blocking = checkLock(opts, '--offline was given');
  else {
    const answer = askAuditService();
    blocking = answer.unreachable ? checkLock(opts, answer.unreachable) : answer.blocking;
  }
  if (blocking > 0) {
    console.log(`[audit] FAILED: ${blocking} high or critical advisor${blocking === 1 ? 'y' : 'ies'}; lift the package with an override in package.json`);
    return 1;
  }
  console.log('[audit] ok: no high or critical advisory');
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (err) {
    if (!(err instanceof AuditError)) throw err;
    console.error(`[audit] ${err.message}`);
    process.exitCode = 2;
  }
}
