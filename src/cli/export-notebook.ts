/**
 * One notebook run headless and exported, for `npm run export` and `npm run site` alike: the
 * runner scripts/export_notebook.py executes it with the project's kernel and writes the
 * self-contained HTML; beside it this module writes the run's record, `<report>.json` (see
 * ExportRecord): what the notebook is, when and where it ran, and the backend, hyperparameters
 * and test results the run itself recorded through FMNIST_FACTS (core/facts.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OVERRIDES_ENV, type Hyperparameters } from '../core/config';
import { FACTS_ENV, readFacts, type RunFact } from '../core/facts';
import { writeFileAtomic } from '../core/paths';
import { DEBUG_ENV, KERNEL_NAME, ROOT, VENV_PYTHON, jupyterEnv, runChild } from './common';

/** One test result of a run: the last evaluation of one model. */
export interface ExportResult {
  /** The kept run's name when a kept run trained or loaded the model (`vgg7-augmented`), else the model's name; `name #2` for a second model of one name. */
  model: string;
  params: number;
  testImages: number;
  loss: number;
  accuracy: number;
}

/** The record written beside each exported report. */
export interface ExportRecord {
  /** The notebook's file name, e.g. `01-fashion-mnist-convnet.ipynb`. */
  notebook: string;
  /** The report's file name, in the same folder as this record. */
  html: string;
  /** The notebook's first heading, without the `#`; the file name when its first Markdown cell has none. */
  title: string;
  /** What the notebook teaches: the first Korean paragraph and the first English (italic) one under its heading. */
  description: { ko: string; en: string };
  /** ISO times of the start and end of the whole export (kernel start included), and the seconds between. */
  started: string;
  finished: string;
  wallSeconds: number;
  machine: { hostname: string; cpu: string; cores: number; platform: string; node: string };
  /** The backend line the notebook's setup cell showed; null if the notebook has none. */
  backend: string | null;
  /** The hyperparameters in force and the names overridden on the command line; null if the notebook sets none. */
  hyperparameters: { values: Partial<Hyperparameters>; overridden: string[] } | null;
  /** The test results the notebook computed, in the order its models were first evaluated. */
  results: ExportResult[];
}

/** Where a report's record goes: `x.html` → `x.json`. */
export function recordPathFor(html: string): string {
  return path.join(path.dirname(html), `${path.basename(html, path.extname(html))}.json`);
}

interface NotebookCell {
  cell_type: string;
  source: string | string[];
}

/** An italic Markdown line or paragraph, `*…*` but not `**…`. */
const ITALIC = /^\*(?!\*)([\s\S]*)\*$/;

/**
 * The title and description of a notebook, from its first Markdown cell. A notebook without a
 * `# ` heading there (a scratch notebook) is titled by its file name and has no description.
 */
export function notebookIntro(notebookPath: string): { title: string; description: { ko: string; en: string } } {
  const nb = JSON.parse(fs.readFileSync(notebookPath, 'utf8')) as { cells: NotebookCell[] };
  const first = nb.cells.find((c) => c.cell_type === 'markdown');
  const text = first ? (Array.isArray(first.source) ? first.source.join('') : first.source) : '';
  const lines = text.split('\n');
  const headingAt = lines.findIndex((l) => /^#\s/.test(l));
  if (headingAt === -1) return { title: path.basename(notebookPath, '.ipynb'), description: { ko: '', en: '' } };
  const title = lines[headingAt].replace(/^#\s+/, '').trim();
  // Paragraphs are blank-line separated; within one, a Korean line may be followed by its English italic line.
  const blocks: string[] = [];
  for (const paragraph of lines.slice(headingAt + 1).join('\n').split(/\n\s*\n/)) {
    const plain: string[] = [];
    for (const line of paragraph.split('\n').map((l) => l.trim()).filter(Boolean)) {
      if (ITALIC.test(line)) {
        if (plain.length) blocks.push(plain.splice(0).join(' '));
        blocks.push(line);
      } else plain.push(line);
    }
    if (plain.length) blocks.push(plain.join(' '));
  }
  const ko = blocks.find((b) => !ITALIC.test(b) && !b.startsWith('#')) ?? '';
  const en = (blocks.find((b) => ITALIC.test(b)) ?? '').replace(ITALIC, '$1');
  return { title, description: { ko, en } };
}

/** The record's facts from the run's facts file: last backend, last hyperparameters, last evaluation per model. */
export function summariseFacts(facts: RunFact[]): Pick<ExportRecord, 'backend' | 'hyperparameters' | 'results'> {
  let backend: string | null = null;
  let hyperparameters: ExportRecord['hyperparameters'] = null;
  const byModel = new Map<number, Extract<RunFact, { kind: 'evaluation' }>>();
  for (const fact of facts) {
    if (fact.kind === 'backend') backend = fact.description;
    else if (fact.kind === 'hyperparameters') hyperparameters = { values: fact.values as Partial<Hyperparameters>, overridden: fact.overridden };
    // A Map keeps the order of first insertion, so re-setting a key keeps the model's first place.
    else byModel.set(fact.modelId, fact);
  }
  const seen = new Map<string, number>();
  const results = [...byModel.values()].map((e) => {
    const name = e.run ?? e.model;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return { model: n === 1 ? name : `${name} #${n}`, params: e.params, testImages: e.testImages, loss: e.loss, accuracy: e.accuracy };
  });
  return { backend, hyperparameters, results };
}

/** The longest one cell may run by default: an hour, far beyond any cell at the notebooks' defaults. */
export const DEFAULT_CELL_TIMEOUT_S = 3600;

/** How a notebook is run. */
export interface ExportOptions {
  /** The longest one cell may run, in seconds, before the export fails. Default: DEFAULT_CELL_TIMEOUT_S. */
  cellTimeout?: number;
}

/**
 * Runs the notebook headless with the overrides and writes `output` (HTML) and its record beside
 * it. Resolves with the runner's exit code (0 written; 1 a cell failed; 130 interrupted); when it
 * is not 0 nothing is written. The overrides must already be validated (args.ts).
 */
export async function exportNotebook(
  notebook: string,
  output: string,
  overrides: Partial<Hyperparameters>,
  options: ExportOptions = {},
): Promise<number> {
  const intro = notebookIntro(notebook);
  const factsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-facts-'));
  const factsFile = path.join(factsDir, 'facts.jsonl');
  // A stop signal ends the command through process.exit (common.ts), past the finally below.
  const removeFacts = () => fs.rmSync(factsDir, { recursive: true, force: true });
  process.once('exit', removeFacts);
  try {
    const started = new Date();
    const code = await runChild(
      VENV_PYTHON,
      [path.join(ROOT, 'scripts', 'export_notebook.py'), notebook, output, '--kernel', KERNEL_NAME, '--cell-timeout', String(options.cellTimeout ?? DEFAULT_CELL_TIMEOUT_S)],
      jupyterEnv({
        [OVERRIDES_ENV]: JSON.stringify(overrides),
        FMNIST_PLOTS: 'jupyter',
        [FACTS_ENV]: factsFile,
        [DEBUG_ENV]: process.env[DEBUG_ENV] ?? '',
      }),
    );
    if (code !== 0) return code;
    const finished = new Date();
    const cpus = os.cpus();
    const record: ExportRecord = {
      notebook: path.basename(notebook),
      html: path.basename(output),
      ...intro,
      started: started.toISOString(),
      finished: finished.toISOString(),
      wallSeconds: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
      machine: {
        hostname: os.hostname(),
        cpu: cpus[0]?.model.trim() || 'unknown',
        cores: os.availableParallelism(),
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.versions.node,
      },
      ...summariseFacts(readFacts(factsFile)),
    };
    try {
      writeFileAtomic(recordPathFor(output), `${JSON.stringify(record, null, 2)}\n`);
    } catch (err) {
      // A report without its record would be half a result: neither stays.
      fs.rmSync(output, { force: true });
      throw new Error(`${recordPathFor(output)}: cannot write the run's record (${(err as Error).message})`);
    }
    console.log(`export: wrote ${recordPathFor(output)}`);
    return 0;
  } finally {
    removeFacts();
    process.removeListener('exit', removeFacts);
  }
}
