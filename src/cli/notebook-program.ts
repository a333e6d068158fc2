/**
 * A notebook's code cells as one plain Node program, so that `npm run tutorial` runs notebook 01
 * itself rather than a copy of it. The cells are TypeScript as the tslab kernel runs them: they
 * share their top-level names, use top-level await, and show the value of a last bare expression.
 * So the cells go, in order, into one async function (their `import` lines hoisted above it); a
 * cell's last expression statement is handed to `display`; each markdown cell's heading is
 * printed where it stands, as the step's title; and TypeScript's transpiler turns the whole into
 * JavaScript (types erased, no type check: the notebook tests type-check the cells in tslab).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import util from 'node:util';
import ts from 'typescript';
import { projectRoot } from '../core/paths';

interface NotebookCell {
  cell_type: string;
  source: string | string[];
}

const IMPORT_LINE = /^\s*import\s[^;]*?\sfrom\s+["'][^"']+["'];?\s*$/;

/** The cell with its last bare expression passed to `__display`, as a kernel shows it. */
function showLastExpression(code: string): string {
  const file = ts.createSourceFile('cell.ts', code, ts.ScriptTarget.ES2022, true);
  const last = file.statements[file.statements.length - 1];
  if (!last || !ts.isExpressionStatement(last)) return code;
  const start = last.getStart(file);
  const expression = last.expression.getText(file);
  return `${code.slice(0, start)}__display(${expression});${code.slice(last.getEnd())}`;
}

/** The JavaScript of a notebook's code cells; `__state.cell` tells which cell ran last, for error messages. */
export function notebookProgram(notebookPath: string): string {
  const notebook = JSON.parse(fs.readFileSync(notebookPath, 'utf8')) as { cells: NotebookCell[] };
  const imports: string[] = [];
  const body: string[] = [];
  notebook.cells.forEach((cell, index) => {
    const text = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    if (cell.cell_type === 'markdown') {
      const heading = text.split('\n').find((line) => /^#{1,3}\s/.test(line));
      if (heading) body.push(`console.log(${JSON.stringify(`\n${heading.replace(/^#+\s*/, '')}`)});`);
      return;
    }
    if (cell.cell_type !== 'code') return;
    const lines = text.split('\n');
    imports.push(...lines.filter((line) => IMPORT_LINE.test(line)));
    const code = lines.filter((line) => !IMPORT_LINE.test(line)).join('\n');
    body.push(`__state.cell = ${index};`, showLastExpression(code));
  });
  const source = `${imports.join('\n')}\nmodule.exports = (async () => {\n${body.join('\n')}\n})();\n`;
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: notebookPath,
  }).outputText;
}

/** A cell's shown value, as a terminal prints it: strings as they are, anything else inspected. */
function display(value: unknown): void {
  if (value === undefined) return;
  console.log(typeof value === 'string' ? value : util.inspect(value, { depth: 4, colors: false }));
}

/** Runs a notebook's code cells in order in this process; a failing cell is named in the error. */
export async function runNotebook(notebookPath: string): Promise<void> {
  const program = notebookProgram(notebookPath);
  const module = { exports: undefined as unknown };
  const state = { cell: -1 };
  const run = new Function('require', 'module', 'exports', '__display', '__state', program);
  try {
    // Modules resolve as in the project, where the kernel runs the notebooks ("fmnist" included).
    run(createRequire(path.join(projectRoot(), 'package.json')), module, {}, display, state);
    await module.exports;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${notebookPath}, cell ${state.cell}: ${message}`);
  }
}
