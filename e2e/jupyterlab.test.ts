/**
 * JupyterLab in Chromium, the way a user runs the tutorial: open notebook 01 (a temporary copy),
 * check that the project's kernel "TypeScript (Fashion-MNIST)" is the one selected, type smaller
 * hyperparameters into the hyperparameter cell, Run → Run All Cells, and watch the training
 * progress change, every cell finish without an error, and every Plotly figure draw.
 *
 * What counts as a failed cell (tslab sends no `error` output for a failing cell: it prints the
 * TypeScript or JavaScript error on the cell's stderr and answers the execute request with
 * status "error"):
 *   1. any execute_reply seen on the kernel's websocket with a status other than "ok";
 *   2. any code cell left without an execution count after Run All (Jupyter stops there);
 *   3. any output rendered in stderr style (`data-mime-type="application/vnd.jupyter.stderr"`,
 *      which JupyterLab also uses for `error` outputs) whose text looks like an error: a word
 *      ending in "Error" (TypeError, Error: …), "error TS1234", or tslab's TypeScript
 *      diagnostic form "[file ]12:3 - message". Other stderr text (a warning) is allowed and logged;
 *   4. any output of type `error` in the notebook as saved by JupyterLab after the run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  Cleanup,
  Proc,
  ROOT,
  descendants,
  freePort,
  isAlive,
  jupyterEnv,
  launchBrowser,
  screenshotPath,
  tslabKernels,
  waitFor,
  waitForFigures,
} from './helpers';

const KERNEL_DISPLAY_NAME = 'TypeScript (Fashion-MNIST)';
const KERNEL_NAME = 'fmnist-ts';
const SOURCE_NOTEBOOK = path.join(ROOT, 'notebooks', '01-fashion-mnist-convnet.ipynb');
const NOTEBOOKS = path.join(ROOT, 'notebooks');
/** Hidden (leading dot) so that the file browser and other tools pass it by; deleted afterwards. */
const TEMP_NAME = `.e2e-01-${process.pid}.ipynb`;
const RUN_ALL_TIMEOUT_MS = 6 * 60_000;
/** Figures of notebook 01: first image, 4×4 grid, live training chart, history chart, augmentation grid. */
const EXPECTED_FIGURES = 5;
const ERROR_TEXT = /\b\w*Error\b|\berror TS\d+|(^|\s)\d+:\d+ - /m;

const cleanup = new Cleanup();
after(() => cleanup.run());

interface Lab {
  proc: Proc;
  port: number;
  token: string;
  base: string;
  api<T>(method: string, route: string): Promise<T>;
}

async function startLab(): Promise<Lab> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const args = [
    '-m', 'jupyterlab',
    '--no-browser',
    '--ServerApp.ip=127.0.0.1',
    `--ServerApp.port=${port}`,
    '--ServerApp.port_retries=0',
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${NOTEBOOKS}`,
    // The temporary copy's name starts with a dot.
    '--ContentsManager.allow_hidden=True',
    '--LabApp.news_url=None',
    '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
  ];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const proc = new Proc('jupyterlab', path.join(ROOT, '.venv', 'bin', 'python'), args, { env: jupyterEnv(), cwd: ROOT });
  const base = `http://127.0.0.1:${port}`;
  const api = async <T>(method: string, route: string): Promise<T> => {
    const res = await fetch(`${base}${route}`, { method, headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status}`);
    const body = await res.text();
    return (body ? JSON.parse(body) : undefined) as T;
  };
  const lab: Lab = { proc, port, token, base, api };
  await waitFor(
    'JupyterLab to answer /api/status',
    async () => {
      if (!proc.running) throw new Error(`JupyterLab exited (${JSON.stringify(proc.exitStatus)}):\n${proc.tail()}`);
      return (await api<{ started: string }>('GET', '/api/status')).started !== undefined;
    },
    90_000,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- server output ---\n${proc.tail()}`);
  });
  return lab;
}

/** The kernels this server runs, by id. */
async function labKernelIds(lab: Lab): Promise<string[]> {
  const kernels = await lab.api<{ id: string }[]>('GET', '/api/kernels');
  return kernels.map((k) => k.id);
}

/** Stops the kernels through the REST API, then the server; kills any kernel of ours left over. */
async function stopLab(lab: Lab, kernelIds: Set<string>): Promise<void> {
  if (lab.proc.running) {
    try {
      for (const id of await labKernelIds(lab)) {
        kernelIds.add(id);
        await lab.api('DELETE', `/api/kernels/${id}`);
      }
    } catch (err) {
      console.error(`# could not stop the kernels through the REST API: ${(err as Error).message}`);
    }
  }
  await lab.proc.stop(5000);
  // A kernel runs in a session of its own, so it survives a SIGKILLed server: find it by its
  // connection file, which is named after the kernel id.
  const ours = (): number[] => tslabKernels().filter((p) => [...kernelIds].some((id) => p.args.includes(id))).map((p) => p.pid);
  for (const pid of ours()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---- page helpers ----

/** Code cells' prompts, e.g. "[3]:", "[*]:", "[ ]:". */
function prompts(page: Page): Promise<string[]> {
  return page.$$eval('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt', (els) => els.map((e) => (e.textContent ?? '').trim()));
}

/** The text of code cell i as CodeMirror shows it, line by line. */
function cellText(page: Page, index: number): Promise<string> {
  return page.evaluate((i) => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i];
    return Array.from(cell?.querySelectorAll('.cm-content .cm-line') ?? [])
      .map((l) => l.textContent ?? '')
      .join('\n');
  }, index);
}

async function codeCellIndex(page: Page, needle: string): Promise<number> {
  const index = await page.evaluate((n) => {
    const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
    return cells.findIndex((c) => (c.querySelector('.cm-content')?.textContent ?? '').includes(n));
  }, needle);
  assert.ok(index >= 0, `no code cell contains ${needle}`);
  return index;
}

/**
 * Hides JupyterLab's toasts ("Would you like to get notified about official Jupyter news?") with
 * their close button, without answering them (an answer would be stored in .jupyter/), so that
 * they do not cover the screenshots.
 */
async function hideToasts(page: Page): Promise<void> {
  const close = page.locator('.Toastify__toast [title="Hide notification"]');
  for (let i = await close.count(); i > 0; i--) {
    await close.first().click({ timeout: 5000 }).catch(() => undefined);
  }
}

/**
 * A screenshot of one cell, or of its top part where it is taller than the notebook's view.
 * JupyterLab lays out cells outside the view lazily (content-visibility), so a cell moves when
 * it, or the cells around it, come into view: scroll it to the top until its box stays put, then
 * take the part of the page where the cell and the notebook's view overlap (an element
 * screenshot of a tall cell would resize the page, and JupyterLab with it).
 */
async function cellScreenshot(page: Page, index: number, file: string): Promise<void> {
  const cell = page.locator('.jp-Notebook .jp-CodeCell').nth(index);
  const view = page.locator('.jp-NotebookPanel .jp-WindowedPanel-outer').first();
  await page.mouse.move(5, 5); // no Plotly mode bar from a hover
  // While Run All goes on, JupyterLab may scroll the notebook itself: try again.
  for (let attempt = 0; attempt < 8; attempt++) {
    await cell.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(400);
    const a = await cell.boundingBox();
    await page.waitForTimeout(300);
    const box = await cell.boundingBox();
    const frame = await view.boundingBox();
    if (!a || !box || !frame || Math.abs(a.y - box.y) >= 1 || Math.abs(a.height - box.height) >= 1) continue;
    const top = Math.max(box.y, frame.y);
    const bottom = Math.min(box.y + box.height, frame.y + frame.height);
    if (bottom - top < 10) continue;
    await page.screenshot({ path: screenshotPath(file), clip: { x: box.x, y: top, width: box.width, height: bottom - top } });
    return;
  }
  throw new Error(`cell ${index + 1} did not stay in view for its screenshot`);
}

/**
 * Makes sure the notebook runs on the project's kernel: JupyterLab picks it from the notebook's
 * metadata; should it ask (a kernel dialog) or have picked another, choose it in the dialog.
 */
async function ensureProjectKernel(page: Page): Promise<void> {
  const kernelName = page.locator('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
  const dialog = page.locator('.jp-Dialog');
  let noKernelSince = 0;
  const state = await waitFor(
    'the kernel name in the toolbar or a kernel dialog',
    async () => {
      if (await dialog.count()) return 'dialog';
      const name = ((await kernelName.textContent({ timeout: 1000 }).catch(() => '')) ?? '').trim();
      if (name === KERNEL_DISPLAY_NAME) return 'ours';
      if (name === '' || name === 'No Kernel') {
        // "No Kernel" while the session starts; still so after 10 s: choose one.
        noKernelSince ||= Date.now();
        return name !== '' && Date.now() - noKernelSince > 10_000 ? 'other' : undefined;
      }
      return 'other';
    },
    90_000,
    500,
  );
  if (state !== 'ours') {
    if (state === 'other') await kernelName.click();
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.locator('select').selectOption({ label: KERNEL_DISPLAY_NAME });
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
  }
  await waitFor('the toolbar to show the project kernel', async () => ((await kernelName.textContent()) ?? '').trim() === KERNEL_DISPLAY_NAME, 30_000);
  await waitFor(
    `the status bar to read "${KERNEL_DISPLAY_NAME} | Idle"`,
    async () => ((await page.locator('#jp-main-statusbar').innerText()) ?? '').includes(`${KERNEL_DISPLAY_NAME} | Idle`),
    120_000,
    500,
  );
}

interface ExecuteReply {
  status: string;
  count: number | null;
}

/** Records execute_reply messages from the kernel websocket (binary v1 protocol or JSON). */
function watchExecuteReplies(page: Page): ExecuteReply[] {
  const replies: ExecuteReply[] = [];
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/api/kernels/')) return;
    ws.on('framereceived', (frame) => {
      const text = typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('utf8');
      if (!/"msg_type":\s*"execute_reply"/.test(text)) return;
      const status = text.match(/"status":\s*"(\w+)"/)?.[1] ?? '?';
      const count = text.match(/"execution_count":\s*(\d+)/)?.[1];
      replies.push({ status, count: count === undefined ? null : Number(count) });
    });
  });
  return replies;
}

interface ProgressSample {
  at: number;
  text: string;
  fitRunning: boolean;
}

/** Every 200 ms, in the page: the progress element's text and whether the fit cell is running. */
async function startProgressPoller(page: Page, fitIndex: number): Promise<void> {
  await page.evaluate((i) => {
    const w = window as unknown as { __e2eProgress: ProgressSample[] };
    w.__e2eProgress = [];
    setInterval(() => {
      const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i];
      const el = cell?.querySelector('.fmnist-progress');
      if (!el) return;
      const text = (el.textContent ?? '').replace(/\s+/g, ' ').trim();
      const prompt = (cell.querySelector('.jp-InputArea-prompt')?.textContent ?? '').trim();
      const last = w.__e2eProgress[w.__e2eProgress.length - 1];
      if (!last || last.text !== text) w.__e2eProgress.push({ at: performance.now(), text, fitRunning: prompt === '[*]:' });
    }, 200);
  }, fitIndex);
}

function progressSamples(page: Page): Promise<ProgressSample[]> {
  return page.evaluate(() => (window as unknown as { __e2eProgress: ProgressSample[] }).__e2eProgress ?? []);
}

interface SavedCell {
  cell_type: string;
  source: string;
  execution_count?: number | null;
  outputs?: { output_type: string }[];
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
}

test('JupyterLab: edit the hyperparameters, Run All, progress and every figure', { timeout: 10 * 60_000 }, async () => {
  const started = Date.now();
  const log = (msg: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);
  const kernelIds = new Set<string>();
  const tempNotebook = path.join(NOTEBOOKS, TEMP_NAME);
  const checkpoints = path.join(NOTEBOOKS, '.ipynb_checkpoints');
  const checkpointsExisted = fs.existsSync(checkpoints);
  const removeTemp = (): void => {
    // The notebook, and what a failed or interrupted save of it can leave (jupyter_server's
    // atomic writing: a ".~" backup, a ".invalid" copy of an unreadable file).
    for (const file of [tempNotebook, `${tempNotebook}.invalid`, path.join(NOTEBOOKS, `.~${TEMP_NAME}`)]) fs.rmSync(file, { force: true });
    fs.rmSync(path.join(checkpoints, TEMP_NAME.replace(/\.ipynb$/, '-checkpoint.ipynb')), { force: true });
    if (!checkpointsExisted && fs.existsSync(checkpoints) && fs.readdirSync(checkpoints).length === 0) fs.rmdirSync(checkpoints);
  };
  fs.copyFileSync(SOURCE_NOTEBOOK, tempNotebook);
  cleanup.add('delete the temporary notebook', removeTemp);

  const lab = await startLab();
  let labStopped = false;
  const stop = async (): Promise<void> => {
    if (labStopped) return;
    labStopped = true;
    await stopLab(lab, kernelIds);
  };
  cleanup.add('stop JupyterLab', stop);
  log(`JupyterLab up on port ${lab.port} (pid ${lab.proc.pid})`);

  let browser: Browser | undefined;
  cleanup.add('close Chromium', async () => {
    await browser?.close();
  });
  let serverTree: number[] = [];
  let failurePage: Page | undefined;
  try {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    failurePage = page;
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const replies = watchExecuteReplies(page);

    await page.goto(`${lab.base}/lab/tree/${encodeURIComponent(TEMP_NAME)}?reset&token=${lab.token}`, { timeout: 90_000 });
    await page.locator('.jp-NotebookPanel .jp-Notebook .jp-CodeCell').first().waitFor({ timeout: 90_000 });
    await ensureProjectKernel(page);
    await hideToasts(page);
    const sessions = await lab.api<{ path: string; kernel: { id: string; name: string } }[]>('GET', '/api/sessions');
    const session = sessions.find((s) => s.path.endsWith(TEMP_NAME));
    assert.ok(session, `no session for ${TEMP_NAME}: ${JSON.stringify(sessions)}`);
    assert.equal(session.kernel.name, KERNEL_NAME, 'the notebook session runs another kernel');
    kernelIds.add(session.kernel.id);
    log(`kernel ${session.kernel.name} ${session.kernel.id} idle`);

    const codeCells = page.locator('.jp-Notebook .jp-CodeCell');
    const cellCount = await codeCells.count();
    const inFile = (JSON.parse(fs.readFileSync(SOURCE_NOTEBOOK, 'utf8')) as { cells: { cell_type: string }[] }).cells.filter((c) => c.cell_type === 'code').length;
    assert.equal(cellCount, inFile, 'code cells shown by JupyterLab and in the notebook file');

    // -- type the new hyperparameters into the cell, as a user would --
    const hpIndex = await codeCellIndex(page, 'fm.hyperparameters(');
    const original = await cellText(page, hpIndex);
    assert.match(original, /^\s*epochs: 15,/m);
    assert.match(original, /^\s*trainSamples: 60000,/m);
    const edited = original.replace(/epochs: 15,/, 'epochs: 2,').replace(/trainSamples: 60000,/, 'trainSamples: 3000,');
    await codeCells.nth(hpIndex).locator('.cm-content').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.insertText(edited);
    await page.keyboard.press('Escape');
    await waitFor('the hyperparameter cell to hold the new text', async () => (await cellText(page, hpIndex)) === edited, 10_000);
    log('hyperparameter cell now reads epochs: 2, trainSamples: 3000');
    await cellScreenshot(page, hpIndex, 'jupyterlab-01-hyperparameters-edited.png');

    // -- Run → Run All Cells --
    const fitIndex = await codeCellIndex(page, 'fm.fit(');
    await startProgressPoller(page, fitIndex);
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
    await page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click();
    log('Run All Cells');

    let duringTraining = false;
    let quietSince = 0;
    await waitFor(
      'Run All to finish (no [*] prompt, kernel idle)',
      async () => {
        const ps = await prompts(page);
        const busy = (await page.locator('.jp-Notebook-ExecutionIndicator').getAttribute('data-status')) !== 'idle';
        const begun = ps.some((p) => p !== '[ ]:');
        if (!duringTraining && ps[fitIndex] === '[*]:' && (await progressSamples(page)).length >= 2) {
          duringTraining = true;
          await hideToasts(page);
          await cellScreenshot(page, fitIndex, 'jupyterlab-01-during-training.png').catch((err: Error) =>
            log(`no screenshot during training: ${err.message}`),
          );
        }
        if (!begun || busy || ps.includes('[*]:')) {
          quietSince = 0;
          return undefined;
        }
        quietSince ||= Date.now();
        return Date.now() - quietSince >= 1500;
      },
      RUN_ALL_TIMEOUT_MS,
      500,
    );
    log('every cell has run');

    // -- no cell failed (see the rules at the top of this file) --
    // The error text first: it says what went wrong, the counts only where.
    const stderr = await page.$$eval('.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', (els) =>
      els.map((e) => (e.textContent ?? '').trim()),
    );
    for (const text of stderr) log(`stderr output (allowed unless it looks like an error): ${text.slice(0, 200)}`);
    assert.deepEqual(stderr.filter((t) => ERROR_TEXT.test(t)), [], 'error text on stderr');
    assert.deepEqual(replies.filter((r) => r.status !== 'ok'), [], `execute replies with a status other than ok; stderr: ${JSON.stringify(stderr)}`);
    const ps = await prompts(page);
    assert.deepEqual(ps, Array.from({ length: cellCount }, (_, i) => `[${i + 1}]:`), 'execution counts after Run All on a fresh kernel');
    assert.equal(replies.length, cellCount, `execute replies: ${JSON.stringify(replies)}`);

    // -- the training progress changed while the fit cell ran --
    const samples = await progressSamples(page);
    const whileRunning = samples.filter((s) => s.fitRunning);
    log(`progress texts recorded: ${samples.length}, while the fit cell ran: ${whileRunning.length}`);
    for (const s of samples.slice(0, 3).concat(samples.slice(-2))) log(`  progress: ${s.text.slice(0, 140)}`);
    assert.ok(whileRunning.length >= 3, `the progress display changed fewer than twice during training: ${JSON.stringify(samples)}`);
    const finalProgress = samples[samples.length - 1]?.text ?? '';
    assert.match(finalProgress, /완료 Done: 2 epochs/, 'the progress display ends with Done after 2 epochs');

    // -- every Plotly figure drew --
    const figures = await waitForFigures(page, '.jp-Notebook .fmnist-figure', EXPECTED_FIGURES, 30_000);
    assert.equal(figures.length, EXPECTED_FIGURES, `figures: ${JSON.stringify(figures)}`);
    log(`figures drawn: ${figures.map((f) => f.traces).join(', ')} traces`);
    const fitFigures = await codeCells.nth(fitIndex).locator('.fmnist-figure.js-plotly-plot').count();
    assert.equal(fitFigures, 1, 'the live training chart in the fit cell drew');
    // -- the classifier panel (⑫) runs in JupyterLab too: its model loads and a click classifies --
    const panelState = await waitFor('the classifier panel to load its model', async () => {
      const state = await page.getAttribute('.jp-Notebook .fmnist-panel', 'data-state');
      return state === 'loading' ? undefined : state;
    }, 60_000);
    assert.equal(panelState, 'ready', 'the classifier panel loaded its model in JupyterLab');
    await page.locator('.jp-Notebook .fmnist-panel-grid button').nth(1).click();
    assert.match((await page.textContent('.jp-Notebook .fmnist-panel-caption')) ?? '', /^testX\[1\]: /);
    log('classifier panel: ready, image 1 classified');
    assert.deepEqual(pageErrors, [], 'uncaught errors in JupyterLab');

    // -- screenshots: the window, then each cell with a figure or the progress --
    await hideToasts(page);
    await cellScreenshot(page, hpIndex, 'jupyterlab-01-hyperparameters-ran.png');
    const shots = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).flatMap((cell, i) =>
        cell.querySelector('.fmnist-figure, .fmnist-progress') ? [{ i, head: (cell.querySelector('.cm-line')?.textContent ?? '').slice(0, 40) }] : [],
      ),
    );
    for (const { i, head } of shots) {
      await cellScreenshot(page, i, `jupyterlab-01-cell-${String(i + 1).padStart(2, '0')}-${slug(head)}.png`);
    }
    // The whole window, scrolled to the training cell.
    await codeCells.nth(fitIndex).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(700);
    await page.screenshot({ path: screenshotPath('jupyterlab-01-window.png') });

    // -- save, and read the saved notebook back: the edit and no error outputs --
    // Read the file only once JupyterLab's PUT has returned: the server writes in place, and a
    // read during the write would find a half-written notebook (and set it aside as .invalid).
    const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: TEMP_NAME });
    assert.match((await tab.getAttribute('class')) ?? '', /jp-mod-dirty/, 'the notebook has unsaved outputs before saving');
    const put = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes(`/api/contents/${encodeURIComponent(TEMP_NAME)}`), { timeout: 60_000 });
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^File$/ }).click();
    await page.locator('.lm-Menu-item[data-command="docmanager:save"]').click();
    assert.equal((await put).status(), 200, 'saving the notebook');
    await waitFor('the tab to lose its unsaved mark', async () => !/jp-mod-dirty/.test((await tab.getAttribute('class')) ?? ''), 30_000);
    let savedState = '';
    const saved = await waitFor(
      'the notebook to be saved with outputs',
      async () => {
        const nb = await lab.api<{ content: { cells: SavedCell[] } }>('GET', `/api/contents/${encodeURIComponent(TEMP_NAME)}?content=1`);
        const code = nb.content.cells.filter((c) => c.cell_type === 'code');
        savedState = JSON.stringify(code.map((c) => [c.execution_count, (c.outputs ?? []).length, c.source.slice(0, 30)]));
        const done = code.length === cellCount && code.every((c) => c.execution_count !== null) && code[hpIndex].source.includes('epochs: 2,');
        return done ? code : undefined;
      },
      30_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; saved cells [count, outputs, source]: ${savedState}`);
    });
    assert.deepEqual(saved.map((c) => c.execution_count), Array.from({ length: cellCount }, (_, i) => i + 1), 'saved execution counts');
    assert.deepEqual(saved.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error')), [], 'error outputs in the saved notebook');
    assert.match(saved[hpIndex].source, /trainSamples: 3000,/);
    log('saved notebook checked');

    failurePage = undefined;
    await context.close();
  } catch (err) {
    // What the window showed when the test failed.
    await failurePage?.screenshot({ path: screenshotPath('jupyterlab-01-failure.png'), timeout: 10_000 }).catch(() => undefined);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    serverTree = descendants(lab.proc.pid).map((p) => p.pid);
    await stop();
    removeTemp();
  }

  // -- nothing left behind --
  assert.ok(!lab.proc.running, 'the JupyterLab server still runs');
  assert.ok(kernelIds.size >= 1, 'no kernel id was recorded');
  const leftKernels = await waitFor(
    'our tslab kernels to exit',
    () => {
      const left = tslabKernels().filter((p) => [...kernelIds].some((id) => p.args.includes(id)));
      return left.length === 0 ? left : undefined;
    },
    10_000,
    500,
  ).catch(() => tslabKernels().filter((p) => [...kernelIds].some((id) => p.args.includes(id))));
  assert.deepEqual(leftKernels, [], "tslab kernel processes left behind (pgrep -f 'tslab/bin/tslab kernel')");
  assert.deepEqual(serverTree.filter(isAlive), [], 'processes started by the server are still alive');
  const others = tslabKernels();
  if (others.length) log(`other tslab kernels run on this machine (not ours): ${others.map((p) => p.pid).join(', ')}`);
  assert.ok(!fs.existsSync(tempNotebook), 'the temporary notebook was deleted');
});
