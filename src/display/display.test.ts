import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { withFakeKernel } from '../../test/support';
import {
  displayWidth,
  ensurePlotly,
  escapeScriptText,
  figureHtml,
  figureToHtmlPage,
  insideJupyter,
  jsonForScript,
  newLiveDisplay,
  plotlyBundle,
  plotMode,
  resetPlotlyBundleState,
  show,
  showTable,
  slugify,
  tableToText,
} from './display';
import { Figure, historyFigure, imageFigure } from './figures';

/** A line of the bundle that occurs in it once: counting it counts the inlined copies. */
const BUNDLE_MARK = 'plotly.js v4.1.2';

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function smallFigure(title: string): Figure {
  return historyFigure({ loss: [0.5, 0.3], acc: [0.8, 0.9], val_loss: [0.4, 0.35], val_acc: [0.85, 0.86], seconds: [1, 1] }, { title });
}

/** The JSON a figure's script hands to Plotly, read back out of the HTML. */
function payloadOf(html: string): Figure {
  const m = /var fig = (.*);\n/.exec(html);
  assert.ok(m, 'figure script has its payload line');
  return JSON.parse(m[1]) as Figure;
}


function captureStdout<T>(body: () => T): { result: T; out: string } {
  const original = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: body(), out };
  } finally {
    process.stdout.write = original;
  }
}

test('importing display.js and asking insideJupyter() load neither tslab nor TypeScript', () => {
  const script =
    `const d = require(${JSON.stringify(path.join(__dirname, 'display.js'))}); const inside = d.insideJupyter();` +
    "const loaded = Object.keys(require.cache).filter((f) => /tslab|typescript/.test(f));" +
    'process.stdout.write(JSON.stringify({ inside, loaded }));';
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { inside: false, loaded: [] });
});

test('a title holding </script> cannot end the figure script', () => {
  const title = 'x </script><script>alert(1)</script> <!-- y';
  const html = figureHtml(smallFigure(title));
  // One script element: the only "</script" is the real closing tag.
  assert.equal(count(html.toLowerCase(), '<script'), 1);
  assert.equal(count(html.toLowerCase(), '</script'), 1);
  assert.ok(!html.includes('<!--'));
  assert.equal(payloadOf(html).layout.title?.text, title, 'the title survives as data');
  assert.equal(jsonForScript('</script>'), '"\\u003c/script\\u003e"');
  assert.equal(escapeScriptText('a="</script>";b=/<!--/'), 'a="\\x3C/script>";b=/\\x3C!--/');
});

test('the figure script waits for Plotly and explains when it never comes', () => {
  const html = figureHtml(smallFigure('t'), { id: 'fig-1' });
  assert.match(html, /<div id="fig-1" class="fmnist-figure" style="width:960px;height:320px">/);
  assert.match(html, /setTimeout\(draw, 100\)/);
  assert.match(html, /Date\.now\(\) \+ 10000/);
  assert.match(html, /첫 셀을 다시 실행하세요/);
  assert.match(html, /rerun the notebook\\u0026#39;s first plotting cell/);
  assert.match(html, /window\.Plotly\.newPlot\(el, fig\.data, fig\.layout, fig\.config\)/);
  assert.equal(count(html, BUNDLE_MARK), 0);
  assert.equal(count(figureHtml(smallFigure('t'), { includeBundle: true }), BUNDLE_MARK), 1);
});

test('the inlined bundle is safe between script tags', () => {
  const bundle = plotlyBundle();
  assert.ok(bundle.length > 3_000_000);
  assert.doesNotMatch(bundle, /<\/script|<!--|<script/i);
});

test('FMNIST_PLOTS picks the mode; auto means files on CI or without a screen', () => {
  assert.equal(plotMode({ FMNIST_PLOTS: 'files', DISPLAY: ':0' }, 'linux'), 'files');
  assert.equal(plotMode({ FMNIST_PLOTS: 'nodeplotlib' }, 'linux'), 'nodeplotlib');
  assert.equal(plotMode({ DISPLAY: ':0' }, 'linux'), 'nodeplotlib');
  assert.equal(plotMode({ FMNIST_PLOTS: 'auto', WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), 'nodeplotlib');
  assert.equal(plotMode({ DISPLAY: ':0', CI: 'true' }, 'linux'), 'files');
  assert.equal(plotMode({}, 'linux'), 'files');
  assert.equal(plotMode({}, 'darwin'), 'nodeplotlib');
  assert.throws(() => plotMode({ FMNIST_PLOTS: 'matplotlib' }, 'linux'), /nodeplotlib, files or auto/);
});

test('slugify keeps ASCII letters and digits', () => {
  assert.equal(slugify('손실 Loss / 정확도 Accuracy'), 'loss-accuracy');
  assert.equal(slugify('9 부츠 (Ankle boot)'), '9-ankle-boot');
  assert.equal(slugify('학습'), 'figure');
});

test('files mode writes one complete page per figure, bundle inlined once, no temp file left', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-figures-'));
  const saved = { plots: process.env.FMNIST_PLOTS, dir: process.env.FMNIST_FIGURES_DIR };
  process.env.FMNIST_PLOTS = 'files';
  process.env.FMNIST_FIGURES_DIR = dir;
  try {
    const { result: first, out } = captureStdout(() => show(smallFigure('손실 Loss curves </script>')));
    const { result: second } = captureStdout(() => show(imageFigure(new Array(784).fill(0.5)), { name: 'first image' }));
    assert.ok(first && second);
    assert.equal(path.dirname(first), dir);
    assert.match(path.basename(first), /^\d\d-loss-curves\.html$/, 'tags and Hangul are left out of the name');
    assert.match(path.basename(second), /^\d\d-first-image\.html$/);
    assert.ok(Number(path.basename(second).slice(0, 2)) > Number(path.basename(first).slice(0, 2)));
    assert.match(out, new RegExp(first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const page = fs.readFileSync(first, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /<\/html>\n$/);
    assert.equal(count(page, BUNDLE_MARK), 1);
    assert.match(page, /<title>손실 Loss curves &#60;\/script&#62;<\/title>/);
    assert.deepEqual(payloadOf(page).data[0].y, [0.5, 0.3]);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.equal(fs.readdirSync(dir).length, 2);
  } finally {
    process.env.FMNIST_PLOTS = saved.plots;
    process.env.FMNIST_FIGURES_DIR = saved.dir;
    if (saved.plots === undefined) delete process.env.FMNIST_PLOTS;
    if (saved.dir === undefined) delete process.env.FMNIST_FIGURES_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('figureToHtmlPage escapes the page title', () => {
  const page = figureToHtmlPage(smallFigure('a'), '<b>&</b>');
  assert.match(page, /<title>&#60;b&#62;&#38;&#60;\/b&#62;<\/title>/);
});

test('in Jupyter the first figure carries the bundle and no later one does', () => {
  withFakeKernel((messages) => {
    assert.equal(insideJupyter(), true);
    show(smallFigure('one'));
    show(smallFigure('two'));
    show(imageFigure(new Array(784).fill(1)));
    ensurePlotly();
    assert.equal(messages.length, 3, 'one display per figure, ensurePlotly adds nothing once sent');
    const html = messages.map((m) => m.msg.data['text/html']);
    assert.deepEqual(
      html.map((h) => count(h, BUNDLE_MARK)),
      [1, 0, 0],
    );
    assert.ok(messages.every((m) => !m.update), 'plain displays, never updates');
    assert.equal(payloadOf(html[1]).layout.title?.text, 'two');
    const ids = html.map((h) => /<div id="([^"]+)"/.exec(h)?.[1]);
    assert.equal(new Set(ids).size, 3, 'each figure has its own div id');

    ensurePlotly(true);
    assert.equal(count(messages[3].msg.data['text/html'], BUNDLE_MARK), 1, 'force sends the bundle again');
    resetPlotlyBundleState();
    show(smallFigure('after reset'));
    assert.equal(count(messages[4].msg.data['text/html'], BUNDLE_MARK), 1);
  });
  assert.equal(insideJupyter(), false, 'the kernel is gone once the writer is restored');
});

test('a live display sends display_data once, then update_display_data with the same id', () => {
  withFakeKernel((messages) => {
    const live = newLiveDisplay();
    assert.equal(live.inPlace, true);
    live.html('<b>1</b>');
    live.html('<b>2</b>');
    live.figure(smallFigure('chart'));
    const liveMessages = messages.filter((m) => m.msg.transient.display_id !== undefined);
    assert.equal(liveMessages.length, 3);
    const id = liveMessages[0].msg.transient.display_id;
    assert.ok(id);
    assert.ok(liveMessages.every((m) => m.msg.transient.display_id === id));
    assert.deepEqual(
      liveMessages.map((m) => Boolean(m.update)),
      [false, true, true],
    );
    // The bundle went out as an output of its own, which no update can replace.
    const bundleMessages = messages.filter((m) => count(m.msg.data['text/html'] ?? '', BUNDLE_MARK) > 0);
    assert.equal(bundleMessages.length, 1);
    assert.equal(bundleMessages[0].msg.transient.display_id, undefined);
    assert.equal(count(liveMessages[2].msg.data['text/html'], BUNDLE_MARK), 0);
  });
});

test('showTable: an HTML table in Jupyter, aligned text in a terminal', () => {
  const rows = [
    { name: '에포크 epochs', value: 15 },
    { name: 'learning rate', value: 0.001 },
  ];
  withFakeKernel((messages) => {
    showTable(rows);
    const html = messages[0].msg.data['text/html'];
    assert.match(html, /<table/);
    assert.match(html, /<td style="text-align:right">0\.0010<\/td>/);
  });
  const { out } = captureStdout(() => showTable(rows));
  assert.equal(
    out,
    ['name            value', '-------------  ------', '에포크 epochs      15', 'learning rate  0.0010', ''].join('\n'),
  );
  assert.equal(displayWidth('에포크 epochs'), 13);
  assert.equal(tableToText([{ a: 'x' }], { caption: 'cap' }).split('\n')[0], 'cap');
});

test('outside Jupyter a live display prints text and ignores HTML', () => {
  const live = newLiveDisplay();
  assert.equal(live.inPlace, false);
  const { out } = captureStdout(() => {
    live.html('<b>no</b>');
    live.figure(smallFigure('no'));
    live.text('yes');
  });
  assert.equal(out, 'yes\n');
});
