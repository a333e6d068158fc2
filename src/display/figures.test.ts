import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Axis,
  BAR_COLORS,
  compareHistoriesFigure,
  confusionMatrixFigure,
  GRAY,
  historyFigure,
  imageFigure,
  imageGridFigure,
  MPL,
  probabilityBarFigure,
} from './figures';
import type { History } from '../training/history';

const ramp = (n: number, scale = 1): number[] => Array.from({ length: n }, (_, i) => (i % 256) * scale);

function axis(layout: Record<string, unknown>, key: string): Axis {
  const a = layout[key];
  assert.ok(a && typeof a === 'object', `layout.${key} is missing`);
  return a as Axis;
}

function sampleHistory(n: number, accFrom = 0.8): History {
  const h: History = { loss: [], acc: [], val_loss: [], val_acc: [], seconds: [] };
  for (let i = 0; i < n; i++) {
    h.loss.push(0.5 / (i + 1));
    h.acc.push(accFrom + i * 0.01);
    h.val_loss.push(0.4 + i * 0.001);
    h.val_acc.push(accFrom + 0.05);
    h.seconds.push(10);
  }
  return h;
}

test('imageFigure: one gray heatmap, row 0 on top, square pixels, colour bar', () => {
  const pixels = ramp(784);
  const fig = imageFigure(pixels, { title: '9 부츠 (Ankle boot)' });
  assert.equal(fig.data.length, 1);
  const trace = fig.data[0];
  assert.equal(trace.type, 'heatmap');
  assert.equal(trace.z?.length, 28);
  assert.equal(trace.z?.[0].length, 28);
  assert.equal(trace.z?.[1][0], pixels[28], 'rows are consecutive runs of 28 pixels');
  assert.deepEqual(trace.colorscale, GRAY);
  assert.equal(GRAY[0][1], 'rgb(0,0,0)');
  assert.equal(GRAY[GRAY.length - 1][1], 'rgb(255,255,255)');
  assert.equal(trace.showscale, true);
  assert.equal(trace.zmin, 0);
  assert.equal(trace.zmax, 255);
  assert.equal(fig.layout.yaxis?.autorange, 'reversed');
  assert.equal(fig.layout.yaxis?.scaleanchor, 'x');
  assert.equal(fig.layout.title?.text, '9 부츠 (Ankle boot)');

  const plain = imageFigure(ramp(784, 1 / 255), { colorbar: false, zmin: 0, zmax: 1 });
  assert.equal(plain.data[0].showscale, false);
  assert.equal(plain.data[0].zmax, 1);
  assert.throws(() => imageFigure(ramp(783)), /784 pixels/);
});

test('imageGridFigure: 4×4 with titles, axes hidden, shared range, no colour bar', () => {
  const titles = Array.from({ length: 16 }, (_, i) => `label ${i}`);
  const fig = imageGridFigure(ramp(16 * 784, 1 / 255), { rows: 4, cols: 4, titles });
  assert.equal(fig.data.length, 16);
  assert.equal(fig.layout.annotations?.length, 16);
  assert.deepEqual(
    fig.layout.annotations?.map((a) => a.text),
    titles,
  );
  const ranges = new Set(fig.data.map((t) => `${t.zmin}..${t.zmax}`));
  assert.equal(ranges.size, 1, 'one colour range for all cells');
  for (let n = 1; n <= 16; n++) {
    const t = fig.data[n - 1];
    assert.equal(t.showscale, false);
    assert.equal(t.xaxis, n === 1 ? 'x' : `x${n}`);
    const xa = axis(fig.layout, n === 1 ? 'xaxis' : `xaxis${n}`);
    const ya = axis(fig.layout, n === 1 ? 'yaxis' : `yaxis${n}`);
    assert.equal(xa.visible, false);
    assert.equal(ya.visible, false);
    assert.equal(ya.autorange, 'reversed');
    assert.equal(ya.scaleanchor, t.xaxis);
  }
  // Row by row: the first image is top left, the fifth starts the second row.
  const y1 = axis(fig.layout, 'yaxis').domain!;
  const y5 = axis(fig.layout, 'yaxis5').domain!;
  const x1 = axis(fig.layout, 'xaxis').domain!;
  const x2 = axis(fig.layout, 'xaxis2').domain!;
  assert.ok(y1[0] > y5[1], 'second row below the first');
  assert.ok(x1[1] < x2[0], 'second column right of the first');
});

test('imageGridFigure: the 10×10 augmentation grid has 100 cells', () => {
  const fig = imageGridFigure(ramp(100 * 784, 1 / 255), { rows: 10, cols: 10 });
  assert.equal(fig.data.length, 100);
  assert.equal(axis(fig.layout, 'xaxis100').visible, false);
  assert.equal(axis(fig.layout, 'yaxis100').visible, false);
  assert.equal(fig.layout.annotations, undefined);
  assert.ok(fig.data.every((t) => t.showscale === false && typeof t.hovertemplate === 'string'));
  for (const key of Object.keys(fig.layout).filter((k) => /^[xy]axis\d*$/.test(k))) {
    const [a, b] = axis(fig.layout, key).domain!;
    assert.ok(a >= 0 && b <= 1 && a < b, `${key} domain ${a}..${b}`);
  }

  const shown = imageGridFigure(ramp(3 * 784), { rows: 2, cols: 2, showAxes: true });
  assert.equal(shown.data.length, 3, 'fewer images than cells leaves cells empty');
  assert.equal(axis(shown.layout, 'xaxis').visible, true);
  assert.throws(() => imageGridFigure(ramp(784 + 1), { rows: 1, cols: 1 }), /multiple of 784/);
});

test("historyFigure: the seed's b- r-- g- k-- curves, epochs from 1, accuracy 0.7..1", () => {
  const h = sampleHistory(15);
  const fig = historyFigure(h);
  assert.equal(fig.data.length, 4);
  const [loss, valLoss, acc, valAcc] = fig.data;
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['loss', 'val_loss', 'acc', 'val_acc'],
  );
  assert.deepEqual([loss.line?.color, loss.line?.dash], [MPL.b, 'solid']);
  assert.deepEqual([valLoss.line?.color, valLoss.line?.dash], [MPL.r, 'dash']);
  assert.deepEqual([acc.line?.color, acc.line?.dash], [MPL.g, 'solid']);
  assert.deepEqual([valAcc.line?.color, valAcc.line?.dash], [MPL.k, 'dash']);
  assert.equal(MPL.b, '#0000ff');
  assert.equal(MPL.g, '#008000');
  assert.deepEqual([loss.xaxis, loss.yaxis, valLoss.yaxis], ['x', 'y', 'y']);
  assert.deepEqual([acc.xaxis, acc.yaxis, valAcc.yaxis], ['x2', 'y2', 'y2']);
  assert.deepEqual(loss.x, Array.from({ length: 15 }, (_, i) => i + 1));
  assert.deepEqual(loss.y, h.loss);
  assert.deepEqual(fig.layout.yaxis2?.range, [0.7, 1]);
  assert.equal(fig.layout.xaxis?.title?.text, 'Epoch');
  assert.equal(fig.layout.xaxis2?.title?.text, 'Epoch');
  assert.equal(fig.layout.width! / fig.layout.height!, 3);
  assert.equal(fig.layout.showlegend, true);
  assert.deepEqual([loss.legend, acc.legend], ['legend', 'legend2']);
  assert.ok(fig.layout.legend && fig.layout.legend2);
  const titles = fig.layout.annotations?.map((a) => a.text).join(' ');
  assert.match(titles ?? '', /손실 Loss/);
  assert.match(titles ?? '', /정확도 Accuracy/);
});

test('historyFigure: an accuracy below 0.7 widens the range; an empty history still draws', () => {
  const low = historyFigure(sampleHistory(3, 0.42));
  const [lo, hi] = low.layout.yaxis2!.range!;
  assert.ok(lo <= 0.42 && lo >= 0.3, `lower limit ${lo}`);
  assert.equal(hi, 1);
  const empty = historyFigure(sampleHistory(0));
  assert.equal(empty.data.length, 4);
  assert.deepEqual(empty.data[0].x, []);
  const one = historyFigure(sampleHistory(1));
  assert.equal(one.data[0].mode, 'lines+markers', 'a single epoch shows as a point');
});

test('compareHistoriesFigure: one colour per run, validation dashed', () => {
  const fig = compareHistoriesFigure([
    { name: 'case 1', history: sampleHistory(15) },
    { name: 'case 2', history: sampleHistory(10) },
  ]);
  assert.equal(fig.data.length, 8);
  const colors = new Set(fig.data.map((t) => t.line?.color));
  assert.equal(colors.size, 2);
  assert.deepEqual(
    fig.data.map((t) => t.line?.dash),
    ['solid', 'dash', 'solid', 'dash', 'solid', 'dash', 'solid', 'dash'],
  );
  assert.equal(fig.data[4].name, 'case 2 loss');
  assert.deepEqual(fig.layout.yaxis2?.range, [0.7, 1]);
});

test('confusionMatrixFigure: annotated cells, true labels top to bottom', () => {
  const labels = ['a', 'b', 'c'];
  const m = [
    [5, 1, 0],
    [2, 7, 1],
    [0, 0, 9],
  ];
  const fig = confusionMatrixFigure(m, labels);
  assert.equal(fig.data.length, 1);
  assert.deepEqual(fig.data[0].z, m);
  assert.equal(fig.layout.annotations?.length, 9);
  const cell = fig.layout.annotations?.find((a) => a.x === 'c' && a.y === 'c');
  assert.equal(cell?.text, '9');
  assert.equal(cell?.font?.color, 'white', 'dark cells get white text');
  assert.equal(fig.layout.yaxis?.autorange, 'reversed');
  assert.throws(() => confusionMatrixFigure([[1, 2]], labels), /3×3/);
});

test('probabilityBarFigure: wrong prediction red, true label blue', () => {
  const labels = ['a', 'b', 'c', 'd'];
  const wrong = probabilityBarFigure([0.1, 0.6, 0.2, 0.1], labels, 2);
  assert.deepEqual(wrong.data[0].marker?.color, [BAR_COLORS.other, BAR_COLORS.wrong, BAR_COLORS.truth, BAR_COLORS.other]);
  assert.deepEqual(wrong.layout.yaxis?.range, [0, 1]);
  const right = probabilityBarFigure([0.1, 0.6, 0.2, 0.1], labels, 1);
  assert.deepEqual(right.data[0].marker?.color, [BAR_COLORS.other, BAR_COLORS.correct, BAR_COLORS.other, BAR_COLORS.other]);
  assert.throws(() => probabilityBarFigure([1], labels), /1 probabilities for 4 labels/);
  assert.throws(() => probabilityBarFigure([0.25, 0.25, 0.25, 0.25], labels, 4), /trueLabel/);
});
