/**
 * The browser check of a classifier panel (src/display/panel.ts), shared by e2e/panel.test.ts (a
 * page built here) and e2e/site.test.ts (notebook 01 as the site exports it): the page loads the
 * embedded model; clicking test images gives the probabilities tfjs-node computes for the same
 * image with the same weights, within 1e-4; a drawing is shrunk, inverted and classified.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { tf } from '../src/core/backend';
import { loadBrowserModel, payloadFromHtml } from '../src/display/panel';
import { waitFor } from './helpers';

/** How far the page's probabilities may be from tfjs-node's: float32 arithmetic in another order. */
export const PROBABILITY_TOLERANCE = 1e-4;

/** tfjs-node's probabilities for one 28×28 image of bytes, as the page scales it (÷ 255). */
function nodeProbabilities(model: tf.LayersModel, bytes: ArrayLike<number>): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(Float32Array.from(bytes), [1, 28, 28, 1]).div(255)) as tf.Tensor).dataSync() as Float32Array);
}

interface Shown {
  probabilities: number[];
  predicted: number;
  input: number[];
  caption: string;
}

async function shown(page: Page, panel: string): Promise<Shown> {
  return page.evaluate((sel) => {
    const r = document.querySelector(`${sel} .fmnist-panel-result`) as HTMLElement;
    return {
      probabilities: JSON.parse(r.dataset.probabilities ?? '[]') as number[],
      predicted: Number(r.dataset.predicted),
      input: JSON.parse(r.dataset.input ?? '[]') as number[],
      caption: r.querySelector('.fmnist-panel-caption')?.textContent ?? '',
    };
  }, panel);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface PanelCheckResult {
  images: number;
  clicked: number[];
  largestDifference: number;
  drawnPrediction: number;
}

/**
 * Checks the panel in `page` (loaded from `html`): model ready, `clicks` images clicked, a stroke
 * drawn. Returns what it measured, for the test's log.
 */
export async function checkPanel(page: Page, html: string, clicks = 5): Promise<PanelCheckResult> {
  const payload = payloadFromHtml(html);
  const panel = '.fmnist-panel';
  const state = await waitFor('the panel to load its model', async () => {
    const s = await page.getAttribute(panel, 'data-state');
    return s === 'loading' ? undefined : s;
  }, 60_000);
  assert.equal(state, 'ready', `panel state ${state}: ${await page.textContent(`${panel} .fmnist-panel-status`)}`);
  const count = payload.labels.length;
  assert.equal(await page.locator(`${panel} .fmnist-panel-grid button`).count(), count);
  const model = await loadBrowserModel(payload.model);
  const images = Buffer.from(payload.images, 'base64');
  let largest = 0;
  const clicked: number[] = [];
  try {
    for (let c = 0; c < clicks; c++) {
      // Spread over the grid, the last image included.
      const k = clicks === 1 ? 0 : Math.round((c * (count - 1)) / (clicks - 1));
      await page.locator(`${panel} .fmnist-panel-grid button`).nth(k).click();
      const s = await waitFor(`probabilities for image ${k}`, async () => {
        const now = await shown(page, panel);
        return now.caption.startsWith(`testX[${payload.indices[k]}]`) ? now : undefined;
      }, 10_000);
      const bytes = images.subarray(784 * k, 784 * k + 784);
      assert.deepEqual(s.input, Array.from(bytes), `image ${k}: the page classified the embedded bytes`);
      const expected = nodeProbabilities(model, bytes);
      const d = maxDiff(s.probabilities, expected);
      assert.ok(d <= PROBABILITY_TOLERANCE, `image ${k}: page and tfjs-node differ by ${d}`);
      largest = Math.max(largest, d);
      const truth = payload.labels[k];
      assert.match(s.caption, new RegExp(`정답 true label: ${truth} `), `image ${k} shows its true label ${truth}`);
      clicked.push(payload.indices[k]);
    }
    const pad = page.locator(`${panel} .fmnist-panel-pad`);
    if ((await pad.count()) === 0) return { images: count, clicked, largestDifference: largest, drawnPrediction: -1 };
    // A trouser-like stroke: two legs from a waistband.
    const box = await pad.boundingBox();
    assert.ok(box, 'the drawing pad is on screen');
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    for (const stroke of [[[0.35, 0.15], [0.65, 0.15]], [[0.38, 0.15], [0.33, 0.9]], [[0.62, 0.15], [0.67, 0.9]]]) {
      await page.mouse.move(...at(stroke[0][0], stroke[0][1]));
      await page.mouse.down();
      for (let t = 1; t <= 10; t++) {
        await page.mouse.move(...at(stroke[0][0] + ((stroke[1][0] - stroke[0][0]) * t) / 10, stroke[0][1] + ((stroke[1][1] - stroke[0][1]) * t) / 10));
      }
      await page.mouse.up();
    }
    const drawn = await waitFor('a prediction for the drawing', async () => {
      const now = await shown(page, panel);
      return now.caption.startsWith('그림 drawing') ? now : undefined;
    }, 10_000);
    const ink = drawn.input.filter((v) => v > 128).length;
    assert.ok(ink > 20 && ink < 600, `the drawing became ${ink} bright pixels of 784 (inverted: strokes light on black)`);
    assert.equal(drawn.input[0], 0, 'the untouched corner is black after inversion');
    const d = maxDiff(drawn.probabilities, nodeProbabilities(model, drawn.input));
    assert.ok(d <= PROBABILITY_TOLERANCE, `drawing: page and tfjs-node differ by ${d}`);
    assert.ok(Math.abs(drawn.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    return { images: count, clicked, largestDifference: Math.max(largest, d), drawnPrediction: drawn.predicted };
  } finally {
    model.dispose();
  }
}
