/**
 * `npm run site` with small overrides, then the folder opened from file:// in Chromium with every
 * other request aborted: the index lists the three notebooks with the backend, hyperparameters and
 * test results each report itself shows; every link opens; notebook 01's classifier panel loads its
 * model and agrees with tfjs-node (e2e/panel-check.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Cleanup, Proc, ROOT, launchBrowser, openOffline, requireBuild, screenshotPath, type OfflinePage } from './helpers';
import { checkPanel } from './panel-check';

const SITE = path.join(ROOT, 'dist', 'cli', 'site.js');
/** The smallest run that still trains every model of the three notebooks. */
const OVERRIDES = ['--epochs', '1', '--train-samples', '600', '--test-samples', '200', '--vgg-epochs', '1', '--augment-extra', '100'];
const NOTEBOOKS = ['00-setup-check', '01-fashion-mnist-convnet', '02-beyond-the-seed'];

const cleanup = new Cleanup();
let tmp = '';
let out = '';
let browser: Browser | undefined;

before(() => {
  requireBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-e2e-site-'));
  out = path.join(tmp, 'site');
  cleanup.add('remove the temporary folder', () => fs.rmSync(tmp, { recursive: true, force: true }));
});

after(async () => {
  await browser?.close();
  await cleanup.run();
});

async function runSite(args: string[], timeoutMs: number): Promise<Proc> {
  // Notebook 02 keeps its models: here in the temporary folder, not the project's models/.
  const proc = new Proc('site', process.execPath, [SITE, ...args], {
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', FMNIST_MODELS_DIR: path.join(tmp, 'models') },
  });
  cleanup.add('stop npm run site', () => proc.stop());
  const done = await proc.waitExit(timeoutMs);
  await proc.stop();
  assert.ok(done, `npm run site took over ${timeoutMs / 1000} s:\n${proc.tail()}`);
  return proc;
}

/** Every reference a page makes that a browser would load: script src, link href, CSS url(), outside the inlined scripts. */
function references(html: string): string[] {
  const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?(<\/script>)/gi, '$1$2');
  const found: string[] = [];
  for (const m of markup.matchAll(/<(?:script|link|img|iframe|source)\b[^>]*\s(?:src|href)=["']?([^"'\s>]+)/gi)) found.push(m[1]);
  for (const m of markup.matchAll(/url\(\s*["']?([^"')]+)/gi)) found.push(m[1]);
  return found.filter((u) => !u.startsWith('data:'));
}

/** The hyperparameter table under `selector` (the one whose caption holds `caption`, if given): name → value. */
async function hyperparameterTable(page: Page, selector: string, caption = ''): Promise<Record<string, string>> {
  return page.evaluate(([sel, cap]) => {
    const table = Array.from(document.querySelectorAll(sel)).find((t) => (t.querySelector('caption')?.textContent ?? '').includes(cap));
    const rows: Record<string, string> = {};
    table?.querySelectorAll('tbody tr').forEach((tr) => {
      const cells = Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim());
      rows[cells[0]] = cells[1];
    });
    return rows;
  }, [selector, caption]);
}

function assertClean(opened: OfflinePage, what: string): void {
  assert.deepEqual(opened.pageErrors, [], `${what}: uncaught errors`);
  assert.deepEqual(opened.consoleErrors, [], `${what}: console errors`);
  assert.deepEqual(opened.attempted, [], `${what}: requests that left the folder`);
}

describe('npm run site', () => {
  test('refuses to replace a folder it did not write, in one line, touching nothing', { timeout: 60_000 }, async () => {
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    const proc = await runSite(['--out', foreign, '--epochs', '1'], 50_000);
    assert.equal(proc.exitStatus?.code, 1);
    assert.match(proc.text(), /^error: --out .*foreign: a folder that npm run site did not write/m);
    assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp')), []);
  });

  test('three notebooks, an index from their runs, all offline; the panel agrees with tfjs-node', { timeout: 25 * 60_000 }, async () => {
    const started = Date.now();
    const proc = await runSite(['--out', out, ...OVERRIDES], 22 * 60_000);
    assert.equal(proc.exitStatus?.code, 0, `npm run site failed:\n${proc.tail()}`);
    console.log(`npm run site ${OVERRIDES.join(' ')}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(files, ['.fmnist-site', ...NOTEBOOKS.flatMap((n) => [`${n}.html`, `${n}.json`]), 'index.html'].sort());
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => /\.(tmp|old)$/.test(f)), [], 'no temporary folder left');
    for (const f of files.filter((x) => x.endsWith('.html'))) {
      assert.deepEqual(references(fs.readFileSync(path.join(out, f), 'utf8')).filter((u) => !fs.existsSync(path.join(out, decodeURIComponent(u)))), [], `${f}: every reference is a file of the folder`);
    }

    browser ??= await launchBrowser();
    const index = await openOffline(browser, path.join(out, 'index.html'));
    try {
      await index.page.screenshot({ path: screenshotPath('site-index.png'), fullPage: true });
      const listed = await index.page.$$eval('article', (els) => els.map((el) => el.getAttribute('data-notebook')));
      assert.deepEqual(listed, NOTEBOOKS.map((n) => `${n}.ipynb`));
      const links = await index.page.$$eval('a', (els) => els.map((el) => el.getAttribute('href') ?? ''));
      for (const href of links) assert.ok(fs.existsSync(path.join(out, decodeURIComponent(href))), `link ${href} opens a file of the folder`);

      for (const name of NOTEBOOKS) {
        const art = `article[data-notebook="${name}.ipynb"]`;
        const title = (await index.page.textContent(`${art} h2`))?.trim() ?? '';
        const backend = (await index.page.textContent(`${art} [data-fact="backend"]`))?.trim() ?? '';
        const results = await index.page.$$eval(`${art} [data-fact="results"] tbody tr`, (rows) =>
          rows.map((r) => `${r.querySelector('[data-fact="loss"]')?.textContent} ${r.querySelector('[data-fact="accuracy"]')?.textContent}`),
        );
        const indexHp = await hyperparameterTable(index.page, `${art} [data-fact="hyperparameters"] table`);

        const html = fs.readFileSync(path.join(out, `${name}.html`), 'utf8');
        const report = await openOffline(browser, path.join(out, `${name}.html`));
        try {
          const text = await report.page.evaluate(() => document.body.innerText);
          assert.ok(text.includes(title), `${name}: the report shows the title '${title}'`);
          assert.match(backend, /backend tensorflow · libtensorflow \d/);
          assert.ok(text.includes(backend), `${name}: the report shows the backend line '${backend}'`);
          // The results, as the report printed them, in the order it printed them.
          const printed = [...text.matchAll(/test loss (\d+\.\d{4}), test accuracy (\d+\.\d{4})/g)].map((m) => `${m[1]} ${m[2]}`);
          assert.deepEqual(results, printed, `${name}: index results against the report`);
          const reportHp = await hyperparameterTable(report.page, 'table.fmnist-table', 'Hyperparameters of this run');
          assert.deepEqual(indexHp, reportHp, `${name}: index hyperparameters against the report`);
          if (name === '00-setup-check') {
            assert.deepEqual(results, []);
            assert.deepEqual(indexHp, {});
          } else {
            // The overrides reached every notebook with hyperparameters.
            assert.equal(indexHp.epochs, OVERRIDES[OVERRIDES.indexOf('--epochs') + 1]);
            assert.equal(indexHp.trainSamples, OVERRIDES[OVERRIDES.indexOf('--train-samples') + 1]);
          }
          assert.equal(results.length, { '00-setup-check': 0, '01-fashion-mnist-convnet': 1, '02-beyond-the-seed': 6 }[name]);
          if (name === '01-fashion-mnist-convnet') {
            const measured = await checkPanel(report.page, html, 3);
            console.log(`notebook 01's panel: ${JSON.stringify(measured)}`);
            await report.page.locator('.fmnist-panel').screenshot({ path: screenshotPath('site-01-panel.png') });
          }
          assertClean(report, name);
        } finally {
          await report.close();
        }
      }
      assertClean(index, 'index.html');
    } finally {
      await index.close();
    }
  });
});
