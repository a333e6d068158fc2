/**
 * Script mode with nodeplotlib (`FMNIST_PLOTS=nodeplotlib npm run tutorial`): the tutorial serves
 * its figures on NODEPLOTLIB_PORT; Chromium opens the page, every figure draws, and once the tab
 * is closed the script ends by itself, leaving no process behind.
 *
 * nodeplotlib's page loads plotly.js 1.58.4 from cdn.plot.ly (and Roboto from Google Fonts). The
 * test has no network: the CDN request is answered with the project's plotly.js-dist-min 4.x
 * (nodeplotlib calls only Plotly.newPlot and Plotly.react, which 4.x has), and every other
 * request that is not to the tutorial's server is aborted and listed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  Cleanup,
  FigureState,
  Proc,
  ROOT,
  descendants,
  figureStates,
  freePort,
  isAlive,
  launchBrowser,
  requireBuild,
  screenshotPath,
  waitFor,
  waitForFigures,
} from './helpers';

const PLOTLY_BUNDLE = path.join(ROOT, 'node_modules', 'plotly.js-dist-min', 'plotly.min.js');
/** Script mode draws: first image, first 16 images, history, augmentation (no live chart). */
const EXPECTED_FIGURES = 4;

const cleanup = new Cleanup();
after(() => cleanup.run());

test('tutorial with FMNIST_PLOTS=nodeplotlib: the page draws every figure, closing it ends the script', { timeout: 6 * 60_000 }, async () => {
  requireBuild();
  const started = Date.now();
  const log = (msg: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);
  const port = await freePort();
  const tutorial = new Proc(
    'tutorial',
    process.execPath,
    [path.join(ROOT, 'dist', 'cli', 'tutorial.js'), '--epochs', '1', '--train-samples', '2000'],
    { env: { ...process.env, FMNIST_PLOTS: 'nodeplotlib', NODEPLOTLIB_PORT: String(port), TF_CPP_MIN_LOG_LEVEL: '2' } },
  );
  cleanup.add('stop the tutorial', () => tutorial.stop());
  let browser: Browser | undefined;
  cleanup.add('close Chromium', async () => {
    await browser?.close();
  });
  const failWithOutput = (err: Error): never => {
    throw new Error(`${err.message}\n--- tutorial output ---\n${tutorial.tail()}`);
  };

  await waitFor(
    'nodeplotlib to serve the figures',
    () => {
      if (!tutorial.running) throw new Error(`the tutorial exited early: ${JSON.stringify(tutorial.exitStatus)}`);
      return tutorial.text().includes('[Nodeplotlib] Server running at');
    },
    180_000,
    250,
  ).catch(failWithOutput);
  log(`nodeplotlib serves on port ${port}`);

  let tree: number[] = [];
  try {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const local = new RegExp(`^(http://(127\\.0\\.0\\.1|localhost):${port}/|data:|blob:|about:)`);
    const cdn: string[] = [];
    const aborted: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (local.test(url)) return route.continue();
      if (/^https:\/\/cdn\.plot\.ly\/plotly-[\d.]+(\.min)?\.js$/.test(url)) {
        cdn.push(url);
        return route.fulfill({ status: 200, contentType: 'application/javascript; charset=utf-8', body: fs.readFileSync(PLOTLY_BUNDLE) });
      }
      aborted.push(url);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${port}/`, { timeout: 60_000 });
    await waitForFigures(page, '.js-plotly-plot', 1, 60_000);
    log('the first figure drew');
    await page.screenshot({ path: screenshotPath('nodeplotlib-first.png') });

    // The figures that follow arrive over nodeplotlib's socket while the script runs on.
    await waitFor('the tutorial to reach its last step', () => tutorial.text().includes('⑪ 이미지 보강 / Image augmentation'), 240_000, 500).catch(failWithOutput);
    // nodeplotlib 1.1.2 shows a figure again each time a later one arrives (its plot buffer is
    // never emptied, and each update re-adds the whole buffer), so plots are told apart by what
    // they show: their text and trace count.
    const distinct = (figures: FigureState[]): string[] => [...new Set(figures.map((f) => `${f.traces} traces: ${f.text}`))];
    const figures = await waitFor(
      `${EXPECTED_FIGURES} different figures drawn`,
      async () => {
        const all = await figureStates(page, '.js-plotly-plot');
        return all.every((f) => f.drawn) && distinct(all).length >= EXPECTED_FIGURES ? all : undefined;
      },
      60_000,
      500,
    ).catch(async (err: Error) => assert.fail(`${err.message}: ${JSON.stringify(await figureStates(page, '.js-plotly-plot'))}`));
    assert.equal(distinct(figures).length, EXPECTED_FIGURES, `figures: ${JSON.stringify(figures)}`);
    log(`figures drawn: ${figures.map((f) => f.traces).join(', ')} traces`);
    if (figures.length !== EXPECTED_FIGURES) {
      log(`note: the page shows ${figures.length} plots for ${EXPECTED_FIGURES} figures (nodeplotlib repeats earlier figures)`);
    }
    await page.mouse.move(5, 5);
    await page.screenshot({ path: screenshotPath('nodeplotlib-all.png'), fullPage: true });
    assert.ok(cdn.length >= 1, 'the page did not ask for plotly.js from cdn.plot.ly (answered locally)');
    log(`answered from plotly.js-dist-min: ${cdn.join(', ')}; aborted: ${aborted.length ? [...new Set(aborted.map((u) => new URL(u).host))].join(', ') : 'none'}`);
    assert.deepEqual(
      aborted.filter((u) => !/^https:\/\/fonts\.(gstatic|googleapis)\.com\//.test(u)),
      [],
      'requests other than the page, plotly.js and its web fonts',
    );
    assert.deepEqual(pageErrors, [], 'uncaught errors on the nodeplotlib page');
    assert.match(tutorial.text(), /test accuracy \d/, 'the tutorial evaluated the model');

    // Closing the last tab ends nodeplotlib's server, and with it the script.
    tree = descendants(tutorial.pid).map((p) => p.pid);
    await page.close({ runBeforeUnload: true });
    await context.close();
    await browser.close();
    browser = undefined;
    log('tab closed');
    const exited = await tutorial.waitExit(10_000);
    if (!exited) {
      await tutorial.stop(3000);
      assert.fail(`the tutorial did not exit within 10 s of its tab closing (killed):\n${tutorial.tail()}`);
    }
    log(`the tutorial exited by itself: ${JSON.stringify(tutorial.exitStatus)}`);
    assert.equal(tutorial.exitStatus?.code, 0, `exit status of the tutorial:\n${tutorial.tail()}`);
    assert.match(tutorial.text(), /\[Nodeplotlib\] Server shutting down/);
  } finally {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await tutorial.stop(3000);
  }
  assert.ok(!tutorial.running, 'the tutorial still runs');
  assert.deepEqual([tutorial.pid, ...tree].filter(isAlive), [], 'processes of the tutorial still alive');
});
