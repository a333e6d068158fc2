/**
 * Drawing: puts the figure specs of figures.ts, tables and text wherever the code runs.
 *
 * - Inside a tslab kernel (a notebook), each figure becomes one `text/html` output holding a div
 *   and a script that calls `Plotly.newPlot`. The plotly.js bundle (plotly.js-dist-min, about
 *   4.8 MB) travels inside the first such output of the kernel session only, so a notebook
 *   exported to HTML carries it exactly once and draws every figure offline.
 * - In a script (`npm run tutorial`), FMNIST_PLOTS picks `files` (a self-contained HTML page per
 *   figure under reports/figures/) or `nodeplotlib` (a browser tab served by nodeplotlib on
 *   127.0.0.1; patches/nodeplotlib+1.1.2.patch makes its page load this project's plotly.js from
 *   that server instead of a CDN, so it draws offline too).
 *
 * Introduced in notebook 01, where the first image is drawn.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot, writeFileAtomic } from '../core/paths';
import type { Figure } from './figures';

/** The part of tslab's `Display` this module uses. */
interface TslabDisplay {
  html(s: string): void;
  text(s: string): void;
  markdown(s: string): void;
}

interface TslabPublic {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

interface TslabJupyter {
  lastWriteDisplayData: unknown;
}

const TSLAB_JUPYTER_MODULE = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

let kernelModuleFile: string | undefined;

/**
 * The file of the tslab module whose display writer is live, if any. A tslab kernel has loaded
 * `tslab/dist/jupyter` (and set its `lastWriteDisplayData`) before it runs the first cell, so
 * looking through the module cache answers the question without loading tslab, and with it
 * TypeScript, into a plain script. It also finds the kernel's copy of tslab should that not be
 * the one `require('tslab')` would resolve from here.
 */
function liveKernelModule(): string | undefined {
  const isLive = (file: string): boolean => {
    const exports = require.cache[file]?.exports as Partial<TslabJupyter> | undefined;
    return exports?.lastWriteDisplayData != null;
  };
  if (kernelModuleFile !== undefined && isLive(kernelModuleFile)) return kernelModuleFile;
  for (const file of Object.keys(require.cache)) {
    if (TSLAB_JUPYTER_MODULE.test(file) && isLive(file)) {
      kernelModuleFile = file;
      return file;
    }
  }
  return undefined;
}

/** True inside a tslab kernel, where displays go to the notebook. */
export function insideJupyter(): boolean {
  return liveKernelModule() !== undefined;
}

/** tslab's public API from the same copy of tslab as the live kernel module. */
function tslab(): TslabPublic {
  const file = liveKernelModule();
  if (file === undefined) throw new Error('not inside a tslab kernel');
  return require(path.join(path.dirname(file), 'public.js')) as TslabPublic;
}

const PLOTLY_BUNDLE_MODULE = 'plotly.js-dist-min/plotly.min.js';

/**
 * Makes script text safe to place between `<script>` and `</script>`: the HTML parser ends a
 * script at the first `</script` and changes state at `<!--` and `<script`, whatever JavaScript
 * means there. `\x3C` is `<` in every JavaScript context where these can occur (strings,
 * template literals, regular expressions, comments).
 */
export function escapeScriptText(js: string): string {
  return js.replace(/<(\/?script|!--)/gi, '\\x3C$1');
}

/**
 * JSON for embedding in a script: `<`, `>` and `&` become \u escapes, so a title such as
 * "</script><script>…" stays a string; typed arrays become plain arrays.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v,
  );
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let bundleText: string | undefined;

/** The plotly.js bundle, read once and made safe to inline. */
export function plotlyBundle(): string {
  bundleText ??= escapeScriptText(fs.readFileSync(require.resolve(PLOTLY_BUNDLE_MODULE), 'utf8'));
  return bundleText;
}

function bundleScript(): string {
  return `<script type="text/javascript">\n${plotlyBundle()}\n</script>\n`;
}

const LOADING_NOTE =
  '그림을 그리는 중… Drawing the figure… ' +
  '(이 글이 남아 있으면 노트북의 스크립트가 실행되지 않았습니다. 노트북을 신뢰(Trust)하거나 다시 실행하세요. ' +
  "If this text stays, the notebook's scripts did not run: trust the notebook or run it again.)";

const MISSING_PLOTLY_NOTE =
  'Plotly가 이 페이지에 없습니다. 노트북에서 그림을 그리는 첫 셀을 다시 실행하세요 (커널이 이미 그 셀을 실행했다면 커널을 재시작한 뒤). ' +
  "Plotly is not loaded on this page: rerun the notebook's first plotting cell (restart the kernel first if it already ran that cell).";

const NOTE_STYLE = 'color:#777;font:13px/1.4 sans-serif;padding:8px';

/** How long a figure's script waits for the Plotly bundle to appear on the page. */
const PLOTLY_WAIT_MS = 10_000;

export interface FigureHtmlOptions {
  /** Put the plotly.js bundle before the figure. */
  includeBundle?: boolean;
  /** The div's id; by default a fresh random one. */
  id?: string;
}

/**
 * A figure as an HTML fragment: a div of the figure's size and a script that draws into it. The
 * script does not assume the bundle has run yet (outputs can be rendered in any order, and a
 * page may be reloaded): it retries for up to ten seconds, then writes a note into the div.
 */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ?? `fmnist-fig-${randomBytes(6).toString('hex')}`;
  const width = fig.layout.width ?? 700;
  const height = fig.layout.height ?? 450;
  const payload = jsonForScript({ data: fig.data, layout: fig.layout, config: fig.config ?? {} });
  const missing = jsonForScript(`<p style="${NOTE_STYLE}">${escapeHtml(MISSING_PLOTLY_NOTE)}</p>`);
  const script = `(function () {
  var id = ${jsonForScript(id)};
  var fig = ${payload};
  var deadline = Date.now() + ${PLOTLY_WAIT_MS};
  function draw() {
    var el = document.getElementById(id);
    if (el && window.Plotly) {
      el.innerHTML = '';
      try {
        window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);
      } catch (err) {
        el.textContent = 'Plotly: ' + err;
      }
    } else if (Date.now() < deadline) {
      setTimeout(draw, 100);
    } else if (el) {
      el.innerHTML = ${missing};
    }
  }
  draw();
})();`;
  return (
    `<div id="${escapeHtml(id)}" class="fmnist-figure" style="width:${width}px;height:${height}px">` +
    `<p style="${NOTE_STYLE}">${escapeHtml(LOADING_NOTE)}</p></div>\n` +
    (opts.includeBundle ? bundleScript() : '') +
    `<script type="text/javascript">\n${script}\n</script>\n`
  );
}

/** A complete HTML page for one figure, the bundle inlined, for files mode or a browser. */
export function figureToHtmlPage(fig: Figure, title: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${escapeHtml(title)}</title>\n` +
    bundleScript() +
    '</head>\n<body style="margin:16px">\n' +
    figureHtml(fig) +
    '</body>\n</html>\n'
  );
}

let bundleEmitted = false;

/** Forgets that this kernel session has received the bundle; the next figure carries it again. */
export function resetPlotlyBundleState(): void {
  bundleEmitted = false;
}

/**
 * Inside Jupyter, emits the plotly.js bundle as an output of its own unless this kernel session
 * has already emitted it (or always, with force). Live displays call it, since an output that is
 * later replaced in place would take the bundle with it. A notebook's setup cell may call it with
 * force=true so that "Run All" in a kernel that already ran puts the bundle in the notebook
 * again. Outside Jupyter it does nothing.
 */
export function ensurePlotly(force = false): void {
  if (!insideJupyter() || (bundleEmitted && !force)) return;
  tslab().display.html(bundleScript());
  bundleEmitted = true;
}

export type PlotMode = 'nodeplotlib' | 'files';

export const PLOTS_ENV = 'FMNIST_PLOTS';
export const FIGURES_DIR_ENV = 'FMNIST_FIGURES_DIR';

/**
 * How a script (outside Jupyter) shows figures, from FMNIST_PLOTS: `files`, `nodeplotlib`, or
 * `auto` (the default): files on CI or where there is no screen to open a browser on.
 */
export function plotMode(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): PlotMode {
  const raw = (env[PLOTS_ENV] ?? '').trim().toLowerCase();
  if (raw === 'files' || raw === 'nodeplotlib') return raw;
  if (raw !== '' && raw !== 'auto') {
    throw new Error(`${PLOTS_ENV} must be nodeplotlib, files or auto, got '${env[PLOTS_ENV]}'`);
  }
  const screen = platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
  return env.CI || !screen ? 'files' : 'nodeplotlib';
}

/** Where files mode writes: FMNIST_FIGURES_DIR, or reports/figures/ in the project. */
export function figuresDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[FIGURES_DIR_ENV];
  return dir ? path.resolve(dir) : path.join(projectRoot(), 'reports', 'figures');
}

/** "손실 Loss / 정확도" → "loss": ASCII letters and digits, so file names are portable. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/<[^>]*>/g, ' ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'figure';
}

let figureCounter = 0;

/**
 * Writes a figure's page as `NN-<slug>.html`, numbered in the order this process shows them (a
 * second run writes the same names again). It writes to a temporary file first and renames it,
 * so a reader never sees half a page.
 */
export function writeFigureFile(fig: Figure, name: string, dir: string = figuresDir()): string {
  fs.mkdirSync(dir, { recursive: true });
  figureCounter += 1;
  const file = path.join(dir, `${String(figureCounter).padStart(2, '0')}-${slugify(name)}.html`);
  writeFileAtomic(file, figureToHtmlPage(fig, name));
  return file;
}

interface NodePlotLib {
  plot(data: unknown[], layout?: unknown, config?: unknown): void;
}

/** Figures waiting for nodeplotlib; they are handed over together when the script is done. */
const nodeplotlibQueue: Figure[] = [];

/**
 * Queues a figure for nodeplotlib. nodeplotlib 1.1.2 never empties its plot buffer, so every
 * plot() after its server is up adds all earlier figures again; plot() calls made in one go, before
 * the server has started, are read once. So the figures are kept until the script's work is
 * finished (Node's 'beforeExit') and then given to nodeplotlib together, like matplotlib's
 * plt.show() at the end of a script; its server then keeps the process alive until the tab closes.
 */
function showWithNodeplotlib(fig: Figure): void {
  if (nodeplotlibQueue.length === 0) {
    process.stdout.write(
      '그림은 스크립트가 끝나면 브라우저 탭에 함께 열립니다. 탭을 닫으면 스크립트가 끝납니다. ' +
        'Figures open together in a browser tab served by nodeplotlib when the script is done; ' +
        `the script ends when the tab is closed. ${PLOTS_ENV}=files writes HTML files instead.\n`,
    );
    process.once('beforeExit', () => {
      const nodeplotlib = require('nodeplotlib') as NodePlotLib;
      for (const queued of nodeplotlibQueue.splice(0)) nodeplotlib.plot(queued.data, queued.layout, queued.config);
    });
  }
  nodeplotlibQueue.push(fig);
}

export interface ShowOptions {
  /** A name for the figure's file in files mode; default its title. */
  name?: string;
}

/**
 * Draws a figure: in a notebook as an output of the current cell, in a script by FMNIST_PLOTS.
 * Returns the file written in files mode.
 */
export function show(fig: Figure, opts: ShowOptions = {}): string | undefined {
  if (insideJupyter()) {
    tslab().display.html(figureHtml(fig, { includeBundle: !bundleEmitted }));
    bundleEmitted = true;
    return undefined;
  }
  if (plotMode() === 'nodeplotlib') {
    showWithNodeplotlib(fig);
    return undefined;
  }
  const file = writeFigureFile(fig, opts.name ?? fig.layout.title?.text ?? 'figure');
  process.stdout.write(`그림 저장 Figure saved: ${file}\n`);
  return file;
}

/** Plain text: a text output in a notebook, a line on stdout in a script. */
export function showText(text: string): void {
  if (insideJupyter()) tslab().display.text(text);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Rough text of an HTML fragment, for a terminal. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|lt|gt|amp|quot|nbsp);/g, (m, e: string) => {
      if (e.startsWith('#')) return String.fromCharCode(Number(e.slice(1)));
      return ({ lt: '<', gt: '>', amp: '&', quot: '"', nbsp: ' ' } as Record<string, string>)[e] ?? m;
    })
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** HTML in a notebook; in a script, the given plain text or else the HTML's rough text. */
export function showHtml(html: string, plainText?: string): void {
  if (insideJupyter()) tslab().display.html(html);
  else showText(plainText ?? htmlToText(html));
}

/** Markdown in a notebook; in a script, the Markdown source as it is. */
export function showMarkdown(markdown: string): void {
  if (insideJupyter()) tslab().display.markdown(markdown);
  else showText(markdown);
}

export type TableRow = Record<string, string | number>;

export interface TableOptions {
  /** Columns and their order; default every key, in order of first appearance. */
  columns?: string[];
  /** Decimals for numbers that are not integers; default 4. */
  digits?: number;
  /** A line above the table. */
  caption?: string;
}

function tableColumns(rows: TableRow[], opts: TableOptions): string[] {
  if (opts.columns) return opts.columns;
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

function formatCell(value: string | number | undefined, digits: number): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** A column is right-aligned when every value in it is a number. */
function numericColumn(rows: TableRow[], column: string): boolean {
  return rows.length > 0 && rows.every((row) => typeof row[column] === 'number');
}

/**
 * Terminal columns a string takes: Hangul and other East Asian wide characters take two,
 * combining marks none. Enough for the labels and headings of this project.
 */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f)) continue;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x1f300 && cp <= 0x1faff) ||
      (cp >= 0x20000 && cp <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

function pad(s: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** A table as aligned text: a header, a rule, then one line per row. */
export function tableToText(rows: TableRow[], opts: TableOptions = {}): string {
  const digits = opts.digits ?? 4;
  const columns = tableColumns(rows, opts);
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c], digits)));
  const right = columns.map((c) => numericColumn(rows, c));
  const widths = columns.map((c, i) => Math.max(displayWidth(c), ...cells.map((line) => displayWidth(line[i]))));
  const line = (values: string[]): string => values.map((v, i) => pad(v, widths[i], right[i])).join('  ').trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  if (opts.caption) out.unshift(opts.caption);
  return out.join('\n');
}

/** A table as an HTML fragment, numbers right-aligned. */
export function tableToHtml(rows: TableRow[], opts: TableOptions = {}): string {
  const digits = opts.digits ?? 4;
  const columns = tableColumns(rows, opts);
  const align = (c: string): string => (numericColumn(rows, c) ? ' style="text-align:right"' : ' style="text-align:left"');
  const head = columns.map((c) => `<th${align(c)}>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${columns.map((c) => `<td${align(c)}>${escapeHtml(formatCell(row[c], digits))}</td>`).join('')}</tr>`)
    .join('\n');
  const caption = opts.caption ? `<caption style="text-align:left">${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="fmnist-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** A table: HTML in a notebook, aligned text in a script. */
export function showTable(rows: TableRow[], opts: TableOptions = {}): void {
  if (insideJupyter()) tslab().display.html(tableToHtml(rows, opts));
  else showText(tableToText(rows, opts));
}

/** One output that later calls replace in place (in a notebook). */
export interface LiveDisplay {
  /** True when each call replaces the previous content (inside Jupyter). */
  readonly inPlace: boolean;
  html(s: string): void;
  text(s: string): void;
  markdown(s: string): void;
  /** Draws a figure in the display; the Plotly bundle is emitted first where needed. */
  figure(fig: Figure): void;
}

/**
 * A display that is updated in place: tslab's newDisplay, whose first call sends display_data
 * and later ones update_display_data with the same display_id. Outside Jupyter nothing can be
 * replaced, and repeating HTML or figures into a log would only flood it, so html() and
 * figure() do nothing there and text() and markdown() print.
 */
export function newLiveDisplay(): LiveDisplay {
  if (!insideJupyter()) {
    return {
      inPlace: false,
      html: () => undefined,
      text: (s) => showText(s),
      markdown: (s) => showText(s),
      figure: () => undefined,
    };
  }
  const sink = tslab().newDisplay();
  return {
    inPlace: true,
    html: (s) => sink.html(s),
    text: (s) => sink.text(s),
    markdown: (s) => sink.markdown(s),
    figure: (fig) => {
      ensurePlotly();
      sink.html(figureHtml(fig));
    },
  };
}
