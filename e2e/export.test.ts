/**
 * Exported HTML (`npm run export`) opened from file:// in Chromium with the network off: every
 * figure draws from the inlined plotly.js, nothing is fetched, nothing is logged as an error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Cleanup, Proc, ROOT, launchBrowser, openOffline, requireBuild, screenshotPath, waitForFigures } from './helpers';

const cleanup = new Cleanup();
let tmp = '';
let browser: Browser | undefined;

before(() => {
  requireBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-e2e-export-'));
  cleanup.add('remove the temporary folder', () => fs.rmSync(tmp, { recursive: true, force: true }));
});

after(() => cleanup.run());

/** Runs `node dist/cli/export.js …` (bounded); returns the HTML file written. */
async function exportNotebook(notebook: string, args: string[], out: string, timeoutMs: number): Promise<string> {
  const proc = new Proc('export', process.execPath, [path.join(ROOT, 'dist', 'cli', 'export.js'), notebook, ...args, '--out', out], {
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  cleanup.add(`stop export of ${notebook}`, () => proc.stop());
  const done = await proc.waitExit(timeoutMs);
  await proc.stop();
  assert.ok(done, `export of ${notebook} took over ${timeoutMs / 1000} s:\n${proc.tail()}`);
  assert.equal(proc.exitStatus?.code, 0, `export of ${notebook} failed:\n${proc.tail()}`);
  assert.ok(fs.existsSync(out), `export wrote no ${out}`);
  return out;
}

/** Opens the file offline and checks figures, console, page errors and requests. */
async function checkOffline(file: string, expectedFigures: number, shot: string): Promise<void> {
  browser ??= await launchBrowser();
  const { page, attempted, consoleErrors, pageErrors, close } = await openOffline(browser, file);
  try {
    const figures = await waitForFigures(page, '.fmnist-figure', expectedFigures, 30_000);
    assert.equal(figures.length, expectedFigures, `expected ${expectedFigures} figures, found ${figures.length}`);
    // Late errors (a figure script's retry loop, a failed font) get a moment to show up.
    await page.waitForTimeout(1000);
    await page.screenshot({ path: screenshotPath(shot), fullPage: true });
    assert.deepEqual(pageErrors, [], 'uncaught errors on the page');
    assert.deepEqual(consoleErrors, [], 'errors in the console');
    assert.deepEqual(attempted, [], 'network requests from an offline report');
  } finally {
    await close();
  }
}

describe('exported HTML, offline in Chromium', () => {
  after(async () => {
    await browser?.close();
    browser = undefined;
  });

  test('00-setup-check: the one figure draws', { timeout: 5 * 60_000 }, async () => {
    const out = await exportNotebook('notebooks/00-setup-check.ipynb', [], path.join(tmp, '00.html'), 4 * 60_000);
    await checkOffline(out, 1, 'export-00-setup-check.png');
  });

  test('01-fashion-mnist-convnet (1 epoch, 3,000 images): all five figures draw', { timeout: 8 * 60_000 }, async () => {
    const out = await exportNotebook(
      'notebooks/01-fashion-mnist-convnet.ipynb',
      ['--epochs', '1', '--train-samples', '3000'],
      path.join(tmp, '01.html'),
      7 * 60_000,
    );
    await checkOffline(out, 5, 'export-01-fashion-mnist-convnet.png');
  });
});
