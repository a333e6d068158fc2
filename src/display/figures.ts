/**
 * Figure specs for every plot of the tutorial, as plain Plotly objects `{ data, layout, config }`.
 * These functions only compute: they touch no file, no DOM and no kernel, so a test can check
 * every colour and axis, and display.ts can draw the same spec in a notebook, a browser tab or
 * an HTML file. Labels are Korean first, then English, as in the rest of the project.
 * Introduced in notebook 01 (images), used again for training curves and evaluation.
 *
 * The types below are our own rather than those of @types/plotly.js: those describe plotly.js 1.x
 * while we draw with 4.x, and a notebook that imports `fmnist` should not need d3's types to
 * compile. Each names the fields this module sets; any other Plotly attribute passes through the
 * index signature.
 */

import { IMAGE_COLS, IMAGE_ROWS } from '../core/image';
import type { History } from '../training/history';

/** A colour scale as Plotly takes it: stops from 0 to 1. */
export type ColorScale = Array<[number, string]>;

export interface Font {
  size?: number;
  color?: string;
  family?: string;
}

export interface Axis {
  title?: { text: string; font?: Font; standoff?: number };
  domain?: [number, number];
  anchor?: string;
  range?: [number, number];
  autorange?: boolean | 'reversed';
  scaleanchor?: string;
  scaleratio?: number;
  constrain?: 'range' | 'domain';
  visible?: boolean;
  showgrid?: boolean;
  zeroline?: boolean;
  showticklabels?: boolean;
  ticks?: '' | 'outside' | 'inside';
  tick0?: number;
  dtick?: number;
  tickformat?: string;
  type?: 'linear' | 'category';
  tickangle?: number;
  [key: string]: unknown;
}

export interface Annotation {
  text: string;
  x: number | string;
  y: number | string;
  xref?: string;
  yref?: string;
  xanchor?: 'left' | 'center' | 'right';
  yanchor?: 'top' | 'middle' | 'bottom';
  showarrow?: boolean;
  font?: Font;
  [key: string]: unknown;
}

export interface Legend {
  orientation?: 'v' | 'h';
  x?: number;
  y?: number;
  xanchor?: 'left' | 'center' | 'right';
  yanchor?: 'top' | 'middle' | 'bottom';
  bgcolor?: string;
  bordercolor?: string;
  borderwidth?: number;
  [key: string]: unknown;
}

export interface Trace {
  type: 'heatmap' | 'scatter' | 'bar';
  name?: string;
  x?: Array<number | string>;
  y?: Array<number | string>;
  z?: number[][];
  mode?: 'lines' | 'markers' | 'lines+markers';
  line?: { color?: string; dash?: 'solid' | 'dash' | 'dot' | 'dashdot'; width?: number };
  marker?: { color?: string | string[] };
  xaxis?: string;
  yaxis?: string;
  /** Which legend lists the trace ('legend', 'legend2', …; plotly.js ≥ 2.25). */
  legend?: string;
  legendgroup?: string;
  showlegend?: boolean;
  colorscale?: ColorScale;
  zmin?: number;
  zmax?: number;
  showscale?: boolean;
  colorbar?: { title?: { text: string }; thickness?: number; len?: number };
  hovertemplate?: string;
  [key: string]: unknown;
}

export interface Layout {
  title?: { text: string; font?: Font; x?: number };
  width?: number;
  height?: number;
  margin?: { l?: number; r?: number; t?: number; b?: number; pad?: number };
  showlegend?: boolean;
  legend?: Legend;
  legend2?: Legend;
  xaxis?: Axis;
  yaxis?: Axis;
  xaxis2?: Axis;
  yaxis2?: Axis;
  annotations?: Annotation[];
  plot_bgcolor?: string;
  paper_bgcolor?: string;
  font?: Font;
  /** Axes beyond the second (`xaxis3` …) and any other Plotly layout attribute. */
  [key: string]: unknown;
}

export interface Config {
  displaylogo?: boolean;
  responsive?: boolean;
  displayModeBar?: boolean | 'hover';
  [key: string]: unknown;
}

/** A complete Plotly figure: what `Plotly.newPlot(div, data, layout, config)` takes. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Config;
}

/** matplotlib's `cmap='gray'`: black at the lowest value, white at the highest. */
export const GRAY: ColorScale = [
  [0, 'rgb(0,0,0)'],
  [1, 'rgb(255,255,255)'],
];

/** matplotlib's `Blues`, as a few stops; used for the confusion matrix. */
export const BLUES: ColorScale = [
  [0, 'rgb(247,251,255)'],
  [0.25, 'rgb(198,219,239)'],
  [0.5, 'rgb(107,174,214)'],
  [0.75, 'rgb(33,113,181)'],
  [1, 'rgb(8,48,107)'],
];

/**
 * matplotlib's one-letter colours as the seed uses them in format strings ('b-', 'r--', 'g-',
 * 'k--'). Note that matplotlib's 'g' is a dark green, (0, 0.5, 0), not pure green.
 */
export const MPL = { b: '#0000ff', r: '#ff0000', g: '#008000', k: '#000000' } as const;

/** matplotlib's default colour cycle (tab10), for comparing several runs. */
export const TAB10 = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
] as const;

const BASE_CONFIG: Config = { displaylogo: false };

/** Keeps four decimals: enough for pixels scaled to 0..1, and it shrinks a 100-image grid's JSON threefold. */
function round4(v: number): number {
  return Number.isInteger(v) ? v : Math.round(v * 1e4) / 1e4;
}

/** Cuts a flat row-major image into the rows Plotly's heatmap expects. */
function toRows(pixels: ArrayLike<number>, offset: number, rows: number, cols: number): number[][] {
  const z: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = new Array<number>(cols);
    for (let c = 0; c < cols; c++) row[c] = round4(pixels[offset + r * cols + c]);
    z.push(row);
  }
  return z;
}

function minMax(values: ArrayLike<number>, start = 0, end = values.length): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** Plotly names the first axes 'x'/'xaxis' and the n-th 'x<n>'/'xaxis<n>'. */
function axisId(letter: 'x' | 'y', n: number): string {
  return n === 1 ? letter : `${letter}${n}`;
}

function axisKey(letter: 'x' | 'y', n: number): string {
  return n === 1 ? `${letter}axis` : `${letter}axis${n}`;
}

function titleOf(text: string | undefined): Layout['title'] | undefined {
  return text === undefined ? undefined : { text, x: 0.5 };
}

export interface ImageFigureOptions {
  title?: string;
  rows?: number;
  cols?: number;
  /** Show the colour bar, as the seed's `plt.colorbar()`. Default true. */
  colorbar?: boolean;
  /** Colour range; by default the image's own minimum and maximum, as matplotlib's imshow. */
  zmin?: number;
  zmax?: number;
}

/**
 * One grayscale image with a colour bar: the seed's `plt.imshow(train_X[0], cmap='gray')` and
 * `plt.colorbar()`. Row 0 is drawn at the top, as an image is, and pixels are square.
 */
export function imageFigure(pixels: ArrayLike<number>, opts: ImageFigureOptions = {}): Figure {
  const rows = opts.rows ?? IMAGE_ROWS;
  const cols = opts.cols ?? IMAGE_COLS;
  checkDimension('rows', rows);
  checkDimension('cols', cols);
  if (pixels.length !== rows * cols) {
    throw new RangeError(`imageFigure expects ${rows}×${cols} = ${rows * cols} pixels, got ${pixels.length}`);
  }
  const [lo, hi] = minMax(pixels);
  const colorbar = opts.colorbar ?? true;
  const trace: Trace = {
    type: 'heatmap',
    z: toRows(pixels, 0, rows, cols),
    colorscale: GRAY,
    zmin: opts.zmin ?? lo,
    zmax: opts.zmax ?? hi,
    showscale: colorbar,
    hovertemplate: 'x %{x}, y %{y}: %{z}<extra></extra>',
  };
  if (colorbar) trace.colorbar = { thickness: 16, len: 1 };
  return {
    data: [trace],
    layout: {
      title: titleOf(opts.title),
      width: colorbar ? 480 : 420,
      height: opts.title === undefined ? 400 : 440,
      margin: { l: 40, r: 20, t: opts.title === undefined ? 20 : 60, b: 40 },
      xaxis: { constrain: 'domain', showgrid: false, zeroline: false, ticks: 'outside' },
      yaxis: {
        autorange: 'reversed',
        scaleanchor: 'x',
        scaleratio: 1,
        constrain: 'domain',
        showgrid: false,
        zeroline: false,
        ticks: 'outside',
      },
    },
    config: { ...BASE_CONFIG },
  };
}

export interface ImageGridOptions {
  rows: number;
  cols: number;
  /** One title per image, drawn above it (the seed's labels); may be shorter than the images. */
  titles?: string[];
  /** Draw the axes of each image; the seed's grids turn them off. Default false. */
  showAxes?: boolean;
  /** Width of the whole figure in pixels; default 720, the seed's 10-inch figure at 72 dpi. */
  sizePx?: number;
  /** Side of each image; default 28. */
  imageRows?: number;
  imageCols?: number;
  /** Shared colour range; by default the minimum and maximum over all images shown. */
  zmin?: number;
  zmax?: number;
  /** A title over the whole grid. */
  title?: string;
}

/**
 * Images in a rows×cols grid, filled row by row: the seed's 4×4 grid of the first 16 training
 * images and its 10×10 grid of 100 augmented copies. Each cell is one heatmap on its own pair
 * of axes; all share one colour range and no cell has a colour bar, which keeps a 100-cell
 * figure quick to draw.
 */
export function imageGridFigure(images: ArrayLike<number>, opts: ImageGridOptions): Figure {
  const { rows, cols } = opts;
  const imageRows = opts.imageRows ?? IMAGE_ROWS;
  const imageCols = opts.imageCols ?? IMAGE_COLS;
  checkDimension('rows', rows);
  checkDimension('cols', cols);
  checkDimension('imageRows', imageRows);
  checkDimension('imageCols', imageCols);
  const perImage = imageRows * imageCols;
  if (images.length % perImage !== 0) {
    throw new RangeError(`imageGridFigure expects a multiple of ${perImage} values, got ${images.length}`);
  }
  const count = Math.min(images.length / perImage, rows * cols);
  const [lo, hi] = minMax(images, 0, count * perImage);
  const zmin = opts.zmin ?? lo;
  const zmax = opts.zmax ?? hi;
  const titles = opts.titles ?? [];
  const hasTitles = titles.length > 0;
  const showAxes = opts.showAxes ?? false;

  // Each cell keeps a margin around its square; with titles, more room on top for the text.
  const cellW = 1 / cols;
  const cellH = 1 / rows;
  const gapX = cellW * (showAxes ? 0.16 : 0.06);
  const gapTop = cellH * (hasTitles ? 0.2 : 0.03);
  const gapBottom = cellH * (showAxes ? 0.12 : 0.03);

  const data: Trace[] = [];
  const layout: Layout = {};
  const annotations: Annotation[] = [];
  for (let i = 0; i < count; i++) {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const n = i + 1;
    const x = axisId('x', n);
    const y = axisId('y', n);
    data.push({
      type: 'heatmap',
      z: toRows(images, i * perImage, imageRows, imageCols),
      xaxis: x,
      yaxis: y,
      colorscale: GRAY,
      zmin,
      zmax,
      showscale: false,
      hovertemplate: '%{z}<extra></extra>',
    });
    const xAxis: Axis = {
      domain: [c * cellW + gapX / 2, (c + 1) * cellW - gapX / 2],
      anchor: y,
      constrain: 'domain',
      visible: showAxes,
      showgrid: false,
      zeroline: false,
    };
    const yAxis: Axis = {
      domain: [1 - (r + 1) * cellH + gapBottom, 1 - r * cellH - gapTop],
      anchor: x,
      autorange: 'reversed',
      scaleanchor: x,
      scaleratio: 1,
      constrain: 'domain',
      visible: showAxes,
      showgrid: false,
      zeroline: false,
    };
    layout[axisKey('x', n)] = xAxis;
    layout[axisKey('y', n)] = yAxis;
    if (i < titles.length) {
      annotations.push({
        text: titles[i],
        // 'x3 domain' places the text relative to that cell's own (constrained) plot area.
        xref: `${x} domain`,
        yref: `${y} domain`,
        x: 0.5,
        y: 1,
        xanchor: 'center',
        yanchor: 'bottom',
        showarrow: false,
        font: { size: rows * cols > 25 ? 9 : 12 },
      });
    }
  }
  const width = opts.sizePx ?? 720;
  const top = opts.title === undefined ? 10 : 50;
  const gridHeight = Math.round((width - 20) * (rows / cols));
  layout.title = titleOf(opts.title);
  layout.width = width;
  layout.height = gridHeight + top + 10;
  layout.margin = { l: 10, r: 10, t: top, b: 10 };
  layout.showlegend = false;
  if (annotations.length > 0) layout.annotations = annotations;
  return { data, layout, config: { ...BASE_CONFIG } };
}

export interface HistoryFigureOptions {
  /** A title over both panels, e.g. the model's name. */
  title?: string;
  width?: number;
  height?: number;
  /**
   * The accuracy panel's y range. Default [0.7, 1], the seed's `plt.ylim(0.7, 1)`; where an
   * accuracy falls below 0.7 (a short run on few images) the lower limit moves down to show it,
   * since a curve drawn outside the panel teaches nothing.
   */
  accRange?: [number, number];
}

/** 1, 2, …, n: the epochs as Keras numbers them in its progress output ("Epoch 1/15"). */
function epochAxis(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** A lower accuracy limit that keeps every value visible, on a 0.05 step. */
function accLower(range: [number, number], values: number[][]): number {
  let lowest = Infinity;
  for (const list of values) for (const v of list) if (Number.isFinite(v) && v < lowest) lowest = v;
  if (lowest >= range[0]) return range[0];
  // A little below the lowest value, so its marker is not cut by the panel's edge.
  return Math.max(0, Math.floor((lowest - 0.01) * 20) / 20);
}

function curve(
  x: number[],
  y: number[],
  name: string,
  color: string,
  dash: 'solid' | 'dash',
  panel: 1 | 2,
  extra: Partial<Trace> = {},
): Trace {
  return {
    type: 'scatter',
    // A single point has no line to draw; a marker shows it until the second epoch arrives.
    mode: x.length < 2 ? 'lines+markers' : 'lines',
    x,
    y,
    name,
    line: { color, dash, width: 2 },
    marker: { color },
    xaxis: axisId('x', panel),
    yaxis: axisId('y', panel),
    legend: panel === 1 ? 'legend' : 'legend2',
    // The trace's name follows in the hover box's side label, as Plotly shows it by default.
    hovertemplate: 'Epoch %{x}: %{y:.4f}',
    ...extra,
  };
}

/** The two panels' axes, legends and titles, shared by historyFigure and compareHistoriesFigure. */
function twoPanelLayout(epochs: number, accRange: [number, number], opts: HistoryFigureOptions): Layout {
  const width = opts.width ?? 960;
  const height = opts.height ?? Math.round(width / 3);
  const top = opts.title === undefined ? 40 : 80;
  // Integer ticks while they fit; beyond that Plotly's own spacing reads better.
  const epochTicks: Axis = epochs > 0 && epochs <= 20 ? { tick0: 1, dtick: 1 } : {};
  const left: [number, number] = [0, 0.45];
  const right: [number, number] = [0.55, 1];
  const panelTitle = (text: string, domain: [number, number]): Annotation => ({
    text: `<b>${text}</b>`,
    xref: 'paper',
    yref: 'paper',
    x: (domain[0] + domain[1]) / 2,
    y: 1,
    xanchor: 'center',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 14 },
  });
  return {
    title: titleOf(opts.title),
    width,
    height,
    margin: { l: 60, r: 20, t: top, b: 50 },
    showlegend: true,
    xaxis: { domain: left, anchor: 'y', title: { text: 'Epoch' }, zeroline: false, ...epochTicks },
    yaxis: { anchor: 'x', title: { text: '손실 Loss' }, zeroline: false },
    xaxis2: { domain: right, anchor: 'y2', title: { text: 'Epoch' }, zeroline: false, ...epochTicks },
    yaxis2: { anchor: 'x2', title: { text: '정확도 Accuracy' }, range: accRange, zeroline: false },
    // As matplotlib's legend(loc='best') would: loss falls, so its legend sits top right; accuracy
    // rises, so its legend sits bottom right.
    legend: { x: left[1], xanchor: 'right', y: 1, yanchor: 'top', bgcolor: 'rgba(255,255,255,0.8)', bordercolor: '#ccc', borderwidth: 1 },
    legend2: { x: right[1], xanchor: 'right', y: 0, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0.8)', bordercolor: '#ccc', borderwidth: 1 },
    annotations: [panelTitle('손실 Loss', left), panelTitle('정확도 Accuracy', right)],
  };
}

/**
 * The seed's 12×4-inch training chart: loss `b-` and val_loss `r--` on the left, acc `g-` and
 * val_acc `k--` on the right with y from 0.7 to 1, x labelled "Epoch", a legend in each panel.
 *
 * The x values are epochs counted from 1, as Keras prints them while training ("Epoch 1/15"),
 * so the last point of a 15-epoch run sits at 15. The seed's matplotlib code plots the lists
 * against their indices, 0 to 14; the curves are the same, shifted by one on the x axis.
 */
export function historyFigure(history: History, opts: HistoryFigureOptions = {}): Figure {
  const range = opts.accRange ?? [0.7, 1];
  const accRange: [number, number] = [accLower(range, [history.acc, history.val_acc]), range[1]];
  const epochs = Math.max(history.loss.length, history.val_loss.length, history.acc.length, history.val_acc.length);
  return {
    data: [
      curve(epochAxis(history.loss.length), history.loss, 'loss', MPL.b, 'solid', 1),
      curve(epochAxis(history.val_loss.length), history.val_loss, 'val_loss', MPL.r, 'dash', 1),
      curve(epochAxis(history.acc.length), history.acc, 'acc', MPL.g, 'solid', 2),
      curve(epochAxis(history.val_acc.length), history.val_acc, 'val_acc', MPL.k, 'dash', 2),
    ],
    layout: twoPanelLayout(epochs, accRange, opts),
    config: { ...BASE_CONFIG },
  };
}

export interface NamedHistory {
  name: string;
  history: History;
}

/**
 * Several runs in the same two panels (the seed's case 1 beside case 2, or VGG-7): one colour
 * per run, training solid and validation dashed, as in historyFigure.
 */
export function compareHistoriesFigure(runs: NamedHistory[], opts: HistoryFigureOptions = {}): Figure {
  const data: Trace[] = [];
  let epochs = 0;
  const range = opts.accRange ?? [0.7, 1];
  let lower = range[0];
  runs.forEach(({ name, history }, i) => {
    const color = TAB10[i % TAB10.length];
    const group = `run${i}`;
    epochs = Math.max(epochs, history.loss.length, history.val_loss.length);
    lower = Math.min(lower, accLower(range, [history.acc, history.val_acc]));
    data.push(
      curve(epochAxis(history.loss.length), history.loss, `${name} loss`, color, 'solid', 1, { legendgroup: group }),
      curve(epochAxis(history.val_loss.length), history.val_loss, `${name} val_loss`, color, 'dash', 1, { legendgroup: group }),
      curve(epochAxis(history.acc.length), history.acc, `${name} acc`, color, 'solid', 2, { legendgroup: `${group}-acc` }),
      curve(epochAxis(history.val_acc.length), history.val_acc, `${name} val_acc`, color, 'dash', 2, { legendgroup: `${group}-acc` }),
    );
  });
  const layout = twoPanelLayout(epochs, [lower, range[1]], { height: 440, ...opts });
  // With several runs a legend inside a panel would hide curves, so each sits below its panel.
  const below = (x: number): Legend => ({ orientation: 'h', x, xanchor: 'left', y: -0.3, yanchor: 'top' });
  layout.legend = below(0);
  layout.legend2 = below(0.55);
  layout.margin = { ...layout.margin, b: 130 };
  return { data, layout, config: { ...BASE_CONFIG } };
}

export interface ConfusionMatrixOptions {
  title?: string;
  /** Width and height in pixels; default 680 × 620. */
  width?: number;
  height?: number;
}

/**
 * A confusion matrix as an annotated heatmap: rows are true labels, top to bottom, columns the
 * predicted ones. Counts are written into the cells as annotations (white on dark cells), which
 * plotly.js draws the same way in Jupyter and on nodeplotlib's page.
 */
export function confusionMatrixFigure(matrix: number[][], labels: string[], opts: ConfusionMatrixOptions = {}): Figure {
  const n = labels.length;
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new RangeError(`confusionMatrixFigure expects a ${n}×${n} matrix for ${n} labels`);
  }
  let max = 0;
  for (const row of matrix) for (const v of row) if (v > max) max = v;
  const annotations: Annotation[] = [];
  matrix.forEach((row, r) =>
    row.forEach((v, c) =>
      annotations.push({
        text: String(round4(v)),
        x: labels[c],
        y: labels[r],
        xref: 'x',
        yref: 'y',
        showarrow: false,
        font: { size: n > 12 ? 9 : 12, color: v > max / 2 ? 'white' : 'black' },
      }),
    ),
  );
  return {
    data: [
      {
        type: 'heatmap',
        z: matrix.map((row) => row.slice()),
        x: labels.slice(),
        y: labels.slice(),
        colorscale: BLUES,
        zmin: 0,
        zmax: max,
        showscale: true,
        colorbar: { title: { text: '개수 Count' }, thickness: 16 },
        hovertemplate: '실제 True %{y}<br>예측 Predicted %{x}<br>%{z}<extra></extra>',
      },
    ],
    layout: {
      title: titleOf(opts.title ?? '혼동 행렬 Confusion matrix'),
      width: opts.width ?? 680,
      height: opts.height ?? 620,
      margin: { l: 140, r: 20, t: 60, b: 140 },
      xaxis: { title: { text: '예측 Predicted', standoff: 24 }, type: 'category', tickangle: -45, automargin: true, constrain: 'domain', showgrid: false },
      yaxis: {
        title: { text: '실제 True' },
        type: 'category',
        automargin: true,
        autorange: 'reversed',
        scaleanchor: 'x',
        scaleratio: 1,
        constrain: 'domain',
        showgrid: false,
      },
      annotations,
    },
    config: { ...BASE_CONFIG },
  };
}

export interface ProbabilityBarOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** Bar colours of probabilityBarFigure, after TensorFlow's classification tutorial. */
export const BAR_COLORS = { other: '#9e9e9e', correct: '#1f77b4', wrong: '#d62728', truth: '#1f77b4' } as const;

/**
 * The model's ten probabilities for one image as bars. The predicted class (the highest bar) is
 * blue when it is right, red when it is wrong, and then the true class is blue; without a true
 * label the prediction is blue.
 */
export function probabilityBarFigure(
  probs: ArrayLike<number>,
  labels: string[],
  trueLabel?: number,
  opts: ProbabilityBarOptions = {},
): Figure {
  if (probs.length !== labels.length) {
    throw new RangeError(`probabilityBarFigure got ${probs.length} probabilities for ${labels.length} labels`);
  }
  if (trueLabel !== undefined && (!Number.isInteger(trueLabel) || trueLabel < 0 || trueLabel >= labels.length)) {
    throw new RangeError(`trueLabel must be an integer 0..${labels.length - 1}, got ${trueLabel}`);
  }
  const y = Array.from(probs, (p) => round4(p));
  let predicted = 0;
  for (let i = 1; i < y.length; i++) if (y[i] > y[predicted]) predicted = i;
  const colors = y.map(() => BAR_COLORS.other as string);
  if (trueLabel === undefined || trueLabel === predicted) {
    colors[predicted] = BAR_COLORS.correct;
  } else {
    colors[predicted] = BAR_COLORS.wrong;
    colors[trueLabel] = BAR_COLORS.truth;
  }
  return {
    data: [
      {
        type: 'bar',
        x: labels.slice(),
        y,
        marker: { color: colors },
        hovertemplate: '%{x}: %{y:.2%}<extra></extra>',
      },
    ],
    layout: {
      title: titleOf(opts.title ?? '예측 확률 Predicted probabilities'),
      width: opts.width ?? 640,
      height: opts.height ?? 360,
      margin: { l: 60, r: 20, t: 60, b: 110 },
      showlegend: false,
      xaxis: { type: 'category', tickangle: -45 },
      yaxis: { range: [0, 1], title: { text: '확률 Probability' }, tickformat: '.0%' },
    },
    config: { ...BASE_CONFIG },
  };
}

