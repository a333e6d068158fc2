/**
 * A live classifier inside the page: the trained model, its weights embedded, classifies the test
 * images a reader clicks and an image the reader draws, with TensorFlow.js' browser build running
 * in the page itself, offline. Introduced at the end of notebook 01 (⑫).
 *
 * The HTML carries everything: the browser build of the same TensorFlow.js release as tfjs-node
 * (tf.es2017.min.js, about 1.1 MB), the model's topology and float32 weights in base64 (the seed's
 * model: 241,546 weights, about 1.3 MB), and the chosen test images as uint8 base64 (784 bytes
 * each). So one panel adds about 2.5 MB to a notebook. Nothing is fetched.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { tf } from '../core/backend';
import { IMAGE_PIXELS } from '../core/image';
import { CLASS_NAMES_EN, CLASS_NAMES_KO, NUM_CLASSES } from '../data/labels';
import { escapeHtml, escapeScriptText, jsonForScript, showHtml } from './display';

export interface ClassifierPanelOptions {
  /** How many test images the grid offers, the first ones of testX. Default: 60. */
  images?: number;
  /** Which test images, by index into testX; when given, `images` is not used. Default: 0 … images − 1. */
  indices?: number[];
  /** A canvas the reader draws on, classified as drawn. Default: true. */
  drawing?: boolean;
  /** The heading above the panel. Default: '직접 분류해 보기 / Classify it yourself'. */
  title?: string;
  /** The panel's element id. Default: a fresh random one, so several panels can share a page. */
  id?: string;
}

export const DEFAULT_PANEL_OPTIONS = Object.freeze({
  images: 60,
  drawing: true,
  title: '직접 분류해 보기 / Classify it yourself',
});

/** What the page needs to rebuild the model: `tf.io.fromMemory`'s three parts, the weights in base64. */
export interface BrowserModel {
  modelTopology: object;
  weightSpecs: io.WeightsManifestEntry[];
  weightData: string;
}

/**
 * The project's own layer classes and the standard class the browser build reads them as. Only
 * inference happens in the page, where SeededDropout (model/dropout.ts) is the identity exactly as
 * tfjs' Dropout is; its `seed` only steers the training masks.
 */
const BROWSER_CLASS: Record<string, string> = { SeededDropout: 'Dropout' };

/** The topology with the project's classes renamed for the browser build (BROWSER_CLASS), copied. */
export function browserTopology(topology: unknown): unknown {
  if (Array.isArray(topology)) return topology.map(browserTopology);
  if (topology === null || typeof topology !== 'object') return topology;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(topology)) out[key] = browserTopology(value);
  const className = out.class_name;
  if (typeof className === 'string' && className in BROWSER_CLASS) {
    out.class_name = BROWSER_CLASS[className];
    const { seed: _seed, ...config } = out.config as Record<string, unknown>;
    out.config = config;
  }
  return out;
}

function joinBuffers(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part), at);
    at += part.byteLength;
  }
  return out;
}

/** The model as the page loads it: topology (browser classes) and weights, through tfjs' own save path. */
export async function browserModel(model: tf.LayersModel): Promise<BrowserModel> {
  let saved: io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || !saved.weightData) throw new Error(`classifierPanel: model ${model.name} saved no weights`);
  return {
    modelTopology: browserTopology(saved.modelTopology) as object,
    weightSpecs: saved.weightSpecs,
    weightData: Buffer.from(joinBuffers(saved.weightData)).toString('base64'),
  };
}

/**
 * The model as the page rebuilds it from a BrowserModel, here in tfjs-node: what the tests compare
 * the page's probabilities with.
 */
export async function loadBrowserModel(browser: BrowserModel): Promise<tf.LayersModel> {
  const weights = Buffer.from(browser.weightData, 'base64');
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: browser.modelTopology,
      weightSpecs: browser.weightSpecs,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}

let bundle: { text: string; version: string } | undefined;

/**
 * TensorFlow.js' browser build, of the copy tfjs-node itself depends on, made safe to inline.
 * A release other than the one that trained the model is refused: layer configs may differ.
 */
export function tfjsBrowserBundle(): { text: string; version: string } {
  if (bundle) return bundle;
  const from = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  const pkg = require.resolve('@tensorflow/tfjs/package.json', { paths: [from] });
  const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  if (version !== tf.version['tfjs-core']) {
    throw new Error(`classifierPanel: ${pkg} is TensorFlow.js ${version}, but tfjs-node runs ${tf.version['tfjs-core']}; run npm install`);
  }
  const text = escapeScriptText(fs.readFileSync(path.join(path.dirname(pkg), 'dist', 'tf.es2017.min.js'), 'utf8'));
  bundle = { text, version };
  return bundle;
}

/** The chosen test images as bytes 0…255 (testX holds x / 255) and their labels. */
function testImages(testX: tf.Tensor, testY: tf.Tensor, indices: number[]): { pixels: Uint8Array; labels: number[] } {
  const n = testX.shape[0];
  if (testX.size !== n * IMAGE_PIXELS) throw new Error(`classifierPanel: testX must hold 28×28 images, got shape [${testX.shape}]`);
  if (testY.shape[0] !== n) throw new Error(`classifierPanel: testX has ${n} images but testY has ${testY.shape[0]} labels`);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`classifierPanel: image index ${i} is not in 0…${n - 1}`);
  }
  const { values, labels } = tf.tidy(() => {
    const picked = tf.gather(testX.reshape([n, IMAGE_PIXELS]), indices);
    return { values: picked.dataSync() as Float32Array, labels: Array.from(tf.gather(testY, indices).dataSync()) };
  });
  const pixels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) throw new Error(`classifierPanel: testX must be normalised to 0…1 (step ③), found ${v}`);
    pixels[i] = Math.round(v * 255);
  }
  return { pixels, labels };
}

/** What the panel's script reads: everything but the library. */
export interface PanelPayload {
  model: BrowserModel;
  /** The images, 784 bytes each, base64. */
  images: string;
  labels: number[];
  /** Their indices in testX, for the captions. */
  indices: number[];
  namesKo: readonly string[];
  namesEn: readonly string[];
  drawing: boolean;
}

const PANEL_STYLE = `
.fmnist-panel{font:14px/1.4 system-ui,sans-serif;color:#222;max-width:980px}
.fmnist-panel h3{margin:4px 0 8px}
.fmnist-panel-status{color:#777}
.fmnist-panel-body{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.fmnist-panel-grid{display:grid;grid-template-columns:repeat(10,44px);gap:3px}
.fmnist-panel-grid button{padding:0;border:2px solid transparent;background:#000;cursor:pointer;width:44px;height:44px}
.fmnist-panel-grid button[aria-pressed=true]{border-color:#e8590c}
.fmnist-panel-grid canvas,.fmnist-panel-preview{width:40px;height:40px;image-rendering:pixelated;display:block}
.fmnist-panel-draw canvas.fmnist-panel-pad{border:1px solid #999;touch-action:none;cursor:crosshair;background:#fff}
.fmnist-panel-result{min-width:360px}
.fmnist-panel-row{display:grid;grid-template-columns:170px 140px 52px;gap:6px;align-items:center;margin:1px 0}
.fmnist-panel-track{background:#eee;height:12px}
.fmnist-panel-bar{height:12px;background:#4c6ef5}
.fmnist-panel-row.top .fmnist-panel-bar{background:#e8590c}
.fmnist-panel-row.truth{font-weight:bold}
`;

/** The page script; PANEL_ID and PAYLOAD are filled in. Plain ES2017 so that it runs as written in any current browser. */
const PANEL_SCRIPT = `(function () {
  var root = document.getElementById(PANEL_ID);
  var P = PAYLOAD;
  var tfjs = window.tf;
  var status = root.querySelector('.fmnist-panel-status');
  var result = root.querySelector('.fmnist-panel-result');
  if (!tfjs || !tfjs.loadLayersModel) {
    status.textContent = 'TensorFlow.js did not load in this page, so the panel cannot run.';
    root.setAttribute('data-state', 'failed');
    return;
  }
  function bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  var pixels = bytes(P.images);
  var model = null;
  function paint(canvas, u8) {
    var ctx = canvas.getContext('2d'), img = ctx.createImageData(28, 28);
    for (var i = 0; i < 784; i++) {
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = u8[i];
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  function classify(u8) {
    return tfjs.tidy(function () {
      var x = tfjs.tensor4d(Float32Array.from(u8), [1, 28, 28, 1]).div(255);
      return model.predict(x).dataSync();
    });
  }
  function show(u8, probs, truth, caption) {
    var best = 0;
    for (var c = 1; c < probs.length; c++) if (probs[c] > probs[best]) best = c;
    result.innerHTML = '';
    var head = document.createElement('p');
    head.className = 'fmnist-panel-caption';
    head.textContent = caption + ': ' + P.namesKo[best] + ' (' + P.namesEn[best] + ') ' + (100 * probs[best]).toFixed(1) + '%' +
      (truth === null ? '' : ' · 정답 true label: ' + truth + ' ' + P.namesKo[truth] + ' (' + P.namesEn[truth] + ')' +
        (truth === best ? ' ✓' : ' ✗'));
    result.appendChild(head);
    for (var k = 0; k < probs.length; k++) {
      var row = document.createElement('div');
      row.className = 'fmnist-panel-row' + (k === best ? ' top' : '') + (k === truth ? ' truth' : '');
      var name = document.createElement('span');
      name.textContent = k + ' ' + P.namesKo[k] + ' ' + P.namesEn[k];
      var track = document.createElement('span');
      track.className = 'fmnist-panel-track';
      var bar = document.createElement('div');
      bar.className = 'fmnist-panel-bar';
      bar.style.width = (100 * probs[k]).toFixed(2) + '%';
      track.appendChild(bar);
      var pct = document.createElement('span');
      pct.style.textAlign = 'right';
      pct.textContent = (100 * probs[k]).toFixed(1) + '%';
      row.appendChild(name); row.appendChild(track); row.appendChild(pct);
      result.appendChild(row);
    }
    // For readers who script the page (and the project's browser tests): the exact numbers.
    result.setAttribute('data-probabilities', JSON.stringify(Array.from(probs)));
    result.setAttribute('data-predicted', String(best));
    result.setAttribute('data-input', JSON.stringify(Array.from(u8)));
  }
  var grid = root.querySelector('.fmnist-panel-grid');
  var buttons = [];
  function pick(k) {
    buttons.forEach(function (b, j) { b.setAttribute('aria-pressed', String(j === k)); });
    var u8 = pixels.subarray(784 * k, 784 * k + 784);
    show(u8, classify(u8), P.labels[k], 'testX[' + P.indices[k] + ']');
  }
  P.labels.forEach(function (label, k) {
    var b = document.createElement('button');
    b.type = 'button';
    b.title = 'testX[' + P.indices[k] + ']';
    b.setAttribute('data-index', String(P.indices[k]));
    b.setAttribute('aria-pressed', 'false');
    var c = document.createElement('canvas');
    c.width = 28; c.height = 28;
    paint(c, pixels.subarray(784 * k, 784 * k + 784));
    b.appendChild(c);
    b.addEventListener('click', function () { if (model) pick(k); });
    grid.appendChild(b);
    buttons.push(b);
  });
  if (P.drawing) {
    var pad = root.querySelector('.fmnist-panel-pad');
    var preview = root.querySelector('.fmnist-panel-preview');
    var pen = pad.getContext('2d');
    var small = document.createElement('canvas');
    small.width = 28; small.height = 28;
    var clear = function () {
      pen.fillStyle = '#fff';
      pen.fillRect(0, 0, pad.width, pad.height);
    };
    clear();
    var drawing = false, last = null;
    var at = function (e) {
      var r = pad.getBoundingClientRect();
      return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
    };
    // Dark strokes on white, as on paper; Fashion-MNIST is the opposite (a light garment on black), so
    // the drawing is inverted once it is shrunk to 28×28.
    var classifyDrawing = function () {
      var ctx = small.getContext('2d');
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(pad, 0, 0, 28, 28);
      var rgba = ctx.getImageData(0, 0, 28, 28).data, u8 = new Uint8Array(784);
      for (var i = 0; i < 784; i++) u8[i] = 255 - rgba[4 * i];
      paint(preview, u8);
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
      show(u8, classify(u8), null, '그림 drawing');
    };
    pad.addEventListener('pointerdown', function (e) {
      drawing = true; last = at(e);
      pad.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    pad.addEventListener('pointermove', function (e) {
      if (!drawing) return;
      var p = at(e);
      pen.strokeStyle = '#000'; pen.lineWidth = pad.width / 14; pen.lineCap = 'round'; pen.lineJoin = 'round';
      pen.beginPath(); pen.moveTo(last[0], last[1]); pen.lineTo(p[0], p[1]); pen.stroke();
      last = p;
    });
    var end = function () {
      if (!drawing) return;
      drawing = false;
      if (model) classifyDrawing();
    };
    pad.addEventListener('pointerup', end);
    pad.addEventListener('pointercancel', end);
    root.querySelector('.fmnist-panel-clear').addEventListener('click', function () {
      clear();
      paint(preview, new Uint8Array(784));
    });
  }
  // The CPU backend: one 28×28 image takes milliseconds there, and its float32 arithmetic matches
  // tfjs-node's to rounding, where WebGL may compute in half precision on some devices.
  tfjs.setBackend('cpu').then(function () {
    var w = bytes(P.model.weightData);
    return tfjs.loadLayersModel(tfjs.io.fromMemory({
      modelTopology: P.model.modelTopology, weightSpecs: P.model.weightSpecs, weightData: w.buffer,
    }));
  }).then(function (m) {
    model = m;
    status.textContent = '모델 준비 완료: 이미지를 누르거나 그려 보세요. Model ready: click an image' +
      (P.drawing ? ' or draw one.' : '.') + ' (TensorFlow.js ' + tfjs.version.tfjs + ', ' + tfjs.getBackend() + ', in this page)';
    root.setAttribute('data-state', 'ready');
    pick(0);
  }).catch(function (err) {
    status.textContent = 'The model could not be loaded: ' + err;
    root.setAttribute('data-state', 'failed');
  });
})();`;

/** The data the page script gets. Exported for the tests, which rebuild the model from it. */
export async function panelPayload(
  model: tf.LayersModel, testX: tf.Tensor, testY: tf.Tensor, options: ClassifierPanelOptions = {},
): Promise<PanelPayload> {
  const count = options.images ?? DEFAULT_PANEL_OPTIONS.images;
  if (!Number.isInteger(count) || count < 1) throw new Error(`classifierPanel: images must be a positive integer, got ${count}`);
  const indices = options.indices ?? Array.from({ length: Math.min(count, testX.shape[0]) }, (_, i) => i);
  if (indices.length === 0) throw new Error('classifierPanel: indices is empty');
  const outputs = model.outputs[0]?.shape;
  if (!outputs || outputs[outputs.length - 1] !== NUM_CLASSES) {
    throw new Error(`classifierPanel: model ${model.name} must output ${NUM_CLASSES} class probabilities, its output is [${outputs}]`);
  }
  const { pixels, labels } = testImages(testX, testY, indices);
  return {
    model: await browserModel(model),
    images: Buffer.from(pixels).toString('base64'),
    labels,
    indices,
    namesKo: CLASS_NAMES_KO,
    namesEn: CLASS_NAMES_EN,
    drawing: options.drawing ?? DEFAULT_PANEL_OPTIONS.drawing,
  };
}

/** The payload back out of a panel's HTML, for the tests. */
export function payloadFromHtml(html: string): PanelPayload {
  const m = /\n {2}var P = (.*);\n/.exec(html);
  if (!m) throw new Error('no classifier panel payload in this HTML');
  return JSON.parse(m[1]) as PanelPayload;
}

/** The panel's HTML from its payload; see classifierPanelHtml. */
function renderPanel(payload: PanelPayload, options: ClassifierPanelOptions): string {
  const id = options.id ?? `fmnist-panel-${randomBytes(6).toString('hex')}`;
  const title = options.title ?? DEFAULT_PANEL_OPTIONS.title;
  const script = PANEL_SCRIPT.replace('PANEL_ID', () => jsonForScript(id)).replace('PAYLOAD', () => jsonForScript(payload));
  const draw = payload.drawing
    ? '<div class="fmnist-panel-draw"><canvas class="fmnist-panel-pad" width="224" height="224"></canvas>' +
      '<div style="display:flex;gap:8px;align-items:center;margin-top:4px"><button type="button" class="fmnist-panel-clear">지우기 Clear</button>' +
      '<span>28×28:</span><canvas class="fmnist-panel-preview" width="28" height="28"></canvas></div></div>'
    : '';
  return (
    `<style>${PANEL_STYLE}</style>\n` +
    `<div id="${escapeHtml(id)}" class="fmnist-panel" data-state="loading">` +
    `<h3>${escapeHtml(title)}</h3>` +
    `<p class="fmnist-panel-status">모델을 불러오는 중… Loading the model… (이 글이 남아 있으면 스크립트가 실행되지 않았습니다: 노트북을 신뢰(Trust)하거나 다시 실행하세요. ` +
    `If this text stays, the page's scripts did not run: trust the notebook or run it again.)</p>` +
    `<div class="fmnist-panel-body"><div class="fmnist-panel-grid"></div>${draw}<div class="fmnist-panel-result"></div></div></div>\n` +
    `<script type="text/javascript">\n${tfjsBrowserBundle().text}\n</script>\n` +
    `<script type="text/javascript">\n${escapeScriptText(script)}\n</script>\n`
  );
}

/**
 * The panel as an HTML fragment: TensorFlow.js' browser build, the panel's elements, and its script
 * with the model and images embedded (see the file comment for sizes).
 */
export async function classifierPanelHtml(
  model: tf.LayersModel, testX: tf.Tensor, testY: tf.Tensor, options: ClassifierPanelOptions = {},
): Promise<string> {
  return renderPanel(await panelPayload(model, testX, testY, options), options);
}

/**
 * Shows the live classifier panel: in a notebook as one HTML output (the page then needs no kernel
 * and no network); in a script, one line saying where to find it.
 */
export async function classifierPanel(
  model: tf.LayersModel, testX: tf.Tensor, testY: tf.Tensor, options: ClassifierPanelOptions = {},
): Promise<void> {
  const payload = await panelPayload(model, testX, testY, options);
  showHtml(
    renderPanel(payload, options),
    `classifier panel: ${model.name} with ${payload.labels.length} test images; ` +
      'it runs in the notebook (JupyterLab or the exported HTML), not in a terminal',
  );
}
