/**
 * Script mode with nodeplotlib (`FMNIST_PLOTS=nodeplotlib npm run tutorial`): the tutorial serves
 * its figures on NODEPLOTLIB_PORT; Chromium opens the page, every figure draws, and once the tab
 * is closed the script ends by itself, leaving no process behind.
 *
 * This drives the page users really get: nothing on it is swapped or answered by the test. The
 * browser has no network beyond the tutorial's own server (every other request is aborted and
 * listed, and the list must stay empty), so the page only draws if patches/nodeplotlib+1.1.2.patch
 * serves it plotly.js from the project's plotly.js-dist-min rather than from a CDN. The test also
 * checks that the server listens on 127.0.0.1 alone, from the kernel's socket table and by trying
 * the machine's other addresses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
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

/** The plotly.js the project ships, which the patched page must load. */
const PLOTLY_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'plotly.js-dist-min', 'package.json'), 'utf8')) as { version: string }).version;
/** Script mode draws: first image, first 16 images, history, augmentation (no live chart). */
const EXPECTED_FIGURES = 4;

/** The training-history figure: loss and accuracy, each for training and validation. */
const HISTORY_TRACES = 4;

/** Addresses (IPv4 dotted, IPv6 as written) with a socket listening on port, from /proc/net/tcp{,6}. */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A: TCP_LISTEN
      const [hexAddr, hexPort] = cols[1].split(':');
      if (parseInt(hexPort, 16) !== port) continue;
      found.push(hexAddr.length === 8 ? hexAddr.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : `[${hexAddr}]`);
    }
  }
  return found;
}

/** This machine's addresses other than loopback, IPv4 only (what a neighbour would dial). */
function otherAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => Boolean(a) && a!.family === 'IPv4' && !a!.internal)
    .map((a) => a.address);
}

/** Whether a TCP connection to host:port is accepted within 3 s. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

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
  assert.deepEqual(listeners(port), ['127.0.0.1'], `listening sockets on port ${port}`);
  for (const address of otherAddresses()) {
    assert.equal(await connects(address, port), false, `the figures are reachable on ${address}:${port}`);
  }
  log(`bound to 127.0.0.1 only (refused on ${otherAddresses().join(', ') || 'no other address: this machine has none'})`);

  let tree: number[] = [];
  try {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const local = new RegExp(`^(http://127\\.0\\.0\\.1:${port}/|data:|blob:|about:)`);
    const served: string[] = [];
    const aborted: string[] = [];
    await context.route('**', async (route) => {
      const url = route.request().url();
      if (local.test(url)) {
        served.push(new URL(url).pathname);
        return route.continue();
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
    assert.deepEqual(aborted, [], 'the page asked for something beyond the tutorial\'s server');
    assert.ok(served.includes('/plotly.min.js'), `the page did not load plotly.js from its server: ${JSON.stringify(served)}`);
    assert.equal(await page.evaluate(() => (window as unknown as { Plotly: { version: string } }).Plotly.version), PLOTLY_VERSION, 'plotly.js on the page');
    log(`plotly.js ${PLOTLY_VERSION} from the tutorial's server; requests elsewhere: none`);
    const history = figures.find((f) => f.text.includes('손실 Loss') && f.text.includes('정확도 Accuracy'));
    assert.ok(history, `no training-history figure among ${JSON.stringify(distinct(figures))}`);
    assert.equal(history.traces, HISTORY_TRACES, `traces of the training-history figure: ${JSON.stringify(history)}`);
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
