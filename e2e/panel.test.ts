/**
 * The classifier panel (src/display/panel.ts) on a page of its own, opened from file:// in Chromium
 * with every other request aborted: a model trained briefly here, the first 60 test images. The
 * same check runs on notebook 01's exported panel in e2e/site.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { tf } from '../src/core/backend';
import { loadFashionMnist } from '../src/data/load';
import { normalize, reshape, toTensors } from '../src/data/preprocess';
import { classifierPanelHtml, payloadFromHtml } from '../src/display/panel';
import { buildSeedModel } from '../src/model/models';
import { fit } from '../src/training/fit';
import { Cleanup, launchBrowser, openOffline, requireBuild, screenshotPath } from './helpers';
import { checkPanel, PROBABILITY_TOLERANCE } from './panel-check';

const cleanup = new Cleanup();
let tmp = '';
let browser: Browser | undefined;

before(() => {
  requireBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-e2e-panel-'));
  cleanup.add('remove the temporary folder', () => fs.rmSync(tmp, { recursive: true, force: true }));
});

after(async () => {
  await browser?.close();
  await cleanup.run();
});

test('a panel page: loads offline, clicks match tfjs-node within 1e-4, a drawing is classified', { timeout: 3 * 60_000 }, async () => {
  const data = await loadFashionMnist();
  let { trainX, trainY, testX, testY } = toTensors(data, { trainSamples: 1000, testSamples: 100 });
  trainX = reshape(normalize(trainX), [-1, 28, 28, 1]);
  testX = reshape(normalize(testX), [-1, 28, 28, 1]);
  const model = buildSeedModel({ seed: 5 });
  model.compile({ optimizer: tf.train.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  // A little training, so that the probabilities differ clearly from image to image.
  await fit(model, trainX, trainY, { epochs: 1, batchSize: 50, validationSplit: 0.1, seed: 5 }).done;
  const html = await classifierPanelHtml(model, testX, testY);
  const file = path.join(tmp, 'panel.html');
  fs.writeFileSync(file, `<!DOCTYPE html>\n<html lang="ko"><head><meta charset="utf-8"><title>panel</title></head><body>\n${html}</body></html>\n`);
  // The tolerance must be able to fail: an untrained model of another seed is far off on the same image.
  const other = buildSeedModel({ seed: 6 });
  const payload = payloadFromHtml(html);
  const first = tf.tidy(() => tf.sub(model.predict(testX.slice(0, 1)) as tf.Tensor, other.predict(testX.slice(0, 1)) as tf.Tensor).abs().max().dataSync()[0]);
  assert.ok(first > 100 * PROBABILITY_TOLERANCE, `another model differs by only ${first}`);
  assert.equal(payload.labels.length, 60);
  other.dispose();
  model.dispose();
  tf.dispose([trainX, trainY, testX, testY]);

  browser ??= await launchBrowser();
  const opened = await openOffline(browser, file);
  try {
    const result = await checkPanel(opened.page, html, 6);
    console.log(`panel page: ${JSON.stringify(result)}`);
    await opened.page.screenshot({ path: screenshotPath('panel.png'), fullPage: true });
    assert.deepEqual(opened.pageErrors, []);
    assert.deepEqual(opened.consoleErrors, []);
    assert.deepEqual(opened.attempted, [], 'no request leaves the page');
  } finally {
    await opened.close();
  }
});
