import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf } from '../core/backend';
import { buildSeedModel } from '../model/models';
import {
  browserTopology, classifierPanel, classifierPanelHtml, DEFAULT_PANEL_OPTIONS, loadBrowserModel, panelPayload, payloadFromHtml, tfjsBrowserBundle,
} from './panel';

/** n images of 28×28 as the notebook holds them after step ③ (bytes / 255), with labels 0…9 in turn. */
function testSet(n: number): { x: tf.Tensor4D; y: tf.Tensor1D; bytes: Uint8Array } {
  const bytes = new Uint8Array(n * 784);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + (i >> 5) * 11) % 256;
  const x = tf.tidy(() => tf.tensor4d(Float32Array.from(bytes), [n, 28, 28, 1]).div(255) as tf.Tensor4D);
  const y = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32');
  return { x, y, bytes };
}

test('browserTopology reads SeededDropout as a standard Dropout, seed dropped, other layers as they are', () => {
  const topology = {
    class_name: 'Sequential',
    config: { layers: [
      { class_name: 'Dense', config: { units: 3, name: 'dense' } },
      { class_name: 'SeededDropout', config: { rate: 0.3, seed: 52, name: 'dropout', trainable: true } },
    ] },
  };
  const out = browserTopology(topology) as typeof topology;
  assert.deepEqual(out.config.layers[0], topology.config.layers[0]);
  assert.deepEqual(out.config.layers[1], { class_name: 'Dropout', config: { rate: 0.3, name: 'dropout', trainable: true } });
  assert.equal(topology.config.layers[1].class_name, 'SeededDropout', 'the input is not changed');
});

test('the browser bundle is the release tfjs-node runs, safe to inline', () => {
  const { text, version } = tfjsBrowserBundle();
  assert.equal(version, tf.version['tfjs-core']);
  assert.ok(text.length > 500_000, `the bundle has ${text.length} characters`);
  assert.doesNotMatch(text, /<\/script/i);
});

test('the embedded model has the same weights and gives the same probabilities; the images are the bytes given', async () => {
  const model = buildSeedModel({ seed: 7 });
  const { x, y, bytes } = testSet(12);
  const payload = await panelPayload(model, x, y, { indices: [3, 0, 11] });
  const rebuilt = await loadBrowserModel(payload.model);
  try {
    assert.ok(!JSON.stringify(payload.model.modelTopology).includes('SeededDropout'), 'no project class left for the browser');
    const [a, b] = [model.getWeights(), rebuilt.getWeights()];
    assert.equal(a.length, b.length);
    a.forEach((w, i) => assert.deepEqual(w.dataSync(), b[i].dataSync(), `weight ${i}`));
    assert.deepEqual(payload.indices, [3, 0, 11]);
    assert.deepEqual(payload.labels, [3, 0, 1]);
    const images = Buffer.from(payload.images, 'base64');
    assert.deepEqual(new Uint8Array(images), Uint8Array.from([...bytes.subarray(3 * 784, 4 * 784), ...bytes.subarray(0, 784), ...bytes.subarray(11 * 784, 12 * 784)]));
    const [p, q] = tf.tidy(() => {
      const picked = tf.gather(x, [3, 0, 11]);
      return [(model.predict(picked) as tf.Tensor).dataSync(), (rebuilt.predict(picked) as tf.Tensor).dataSync()];
    });
    assert.deepEqual(q, p);
  } finally {
    rebuilt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
});

test('by default the first 60 images, fewer when there are fewer; bad input is refused in one line', async () => {
  const model = buildSeedModel({ seed: 1 });
  const { x, y } = testSet(70);
  const small = testSet(5);
  try {
    assert.equal(DEFAULT_PANEL_OPTIONS.images, 60);
    assert.deepEqual((await panelPayload(model, x, y)).indices, Array.from({ length: 60 }, (_, i) => i));
    assert.deepEqual((await panelPayload(model, small.x, small.y)).indices, [0, 1, 2, 3, 4]);
    assert.equal((await panelPayload(model, x, y, { images: 4, drawing: false })).drawing, false);
    await assert.rejects(panelPayload(model, x, y, { indices: [70] }), /image index 70 is not in 0…69/);
    await assert.rejects(panelPayload(model, x, y, { images: 0 }), /images must be a positive integer/);
    const raw = tf.mul(x, 255);
    await assert.rejects(panelPayload(model, raw, y), /testX must be normalised to 0…1/);
    raw.dispose();
    await assert.rejects(panelPayload(model, x, small.y), /testX has 70 images but testY has 5 labels/);
  } finally {
    model.dispose();
    tf.dispose([x, y, small.x, small.y]);
  }
});

test('the HTML carries bundle, model and images once, fetches nothing, and leaves no tensor behind', async () => {
  const model = buildSeedModel({ seed: 3 });
  const { x, y } = testSet(20);
  try {
    const before = tf.memory().numTensors;
    const html = await classifierPanelHtml(model, x, y, { images: 10, id: 'panel-a', title: '<b>t</b>' });
    await classifierPanelHtml(model, x, y);
    assert.equal(tf.memory().numTensors, before, 'tensor count does not grow');
    assert.equal(html.split('Copyright 2024 Google LLC').length - 1 >= 1, true);
    assert.equal((html.match(/<script/g) ?? []).length, 2, 'the bundle and the panel script');
    assert.doesNotMatch(html, /\ssrc=|\shref=|url\(/, 'nothing loaded from elsewhere');
    assert.match(html, /id="panel-a"/);
    assert.match(html, /&#60;b&#62;t&#60;\/b&#62;/, 'the title is escaped');
    const payload = payloadFromHtml(html);
    assert.equal(payload.labels.length, 10);
    assert.deepEqual(payload, await panelPayload(model, x, y, { images: 10 }));
    // Size as the doc comment states it: the bundle (~1.1 MB), the weights (~1.3 MB in base64).
    assert.ok(html.length < 3_000_000, `${html.length} characters`);
  } finally {
    model.dispose();
    tf.dispose([x, y]);
  }
});

test('outside a notebook the panel is one line on stdout', async () => {
  const model = buildSeedModel({ seed: 3 });
  const { x, y } = testSet(3);
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as unknown as typeof process.stdout.write;
  try {
    await classifierPanel(model, x, y);
  } finally {
    process.stdout.write = write;
    model.dispose();
    tf.dispose([x, y]);
  }
  assert.equal(written.length, 1);
  assert.match(written[0], /^classifier panel: seed_convnet with 3 test images; it runs in the notebook/);
});
