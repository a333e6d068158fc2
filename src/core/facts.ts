/**
 * What a notebook run records about itself, for the teaching site's index (`npm run site`). The
 * export runner (src/cli/export-notebook.ts) names a fresh file in FMNIST_FACTS before the kernel
 * starts; the library's own helpers append one JSON line to it as they run: notebookSetup the
 * backend in use, hyperparameters() the values in force, evaluate() each test result. So the
 * index shows what the run computed, never a number typed in. Without FMNIST_FACTS (JupyterLab,
 * `npm run tutorial`, the tests) recording does nothing.
 */
import fs from 'node:fs';

export const FACTS_ENV = 'FMNIST_FACTS';

/** One line of the facts file. */
export type RunFact =
  | { kind: 'backend'; description: string }
  | { kind: 'hyperparameters'; values: Record<string, unknown>; overridden: string[] }
  | {
      kind: 'evaluation';
      /** The model's name (`tf.sequential({ name })`). */
      model: string;
      /** The name of the kept run that trained or loaded it (notebook 02's `fm.keptRun("vgg7-augmented")`), if any. */
      run?: string;
      /** The same number for every evaluation of the same model object in this kernel, counted from 1. */
      modelId: number;
      params: number;
      loss: number;
      accuracy: number;
      testImages: number;
    };

const modelIds = new WeakMap<object, number>();
let modelsSeen = 0;

/** A number per model object, so that evaluating one model twice is told from two models of one name. */
export function modelIdOf(model: object): number {
  let id = modelIds.get(model);
  if (id === undefined) {
    id = ++modelsSeen;
    modelIds.set(model, id);
  }
  return id;
}

const runNames = new WeakMap<object, string>();

/** Names a model after the kept run that trains or loads it (runs/persist.ts), for its evaluations. */
export function nameRunOf(model: object, run: string): void {
  runNames.set(model, run);
}

/** The kept run's name given to a model by nameRunOf, if any. */
export function runNameOf(model: object): string | undefined {
  return runNames.get(model);
}

/** Appends a fact to the file named by FMNIST_FACTS; does nothing when it is unset. */
export function recordFact(fact: RunFact, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[FACTS_ENV];
  if (!file) return;
  try {
    fs.appendFileSync(file, `${JSON.stringify(fact)}\n`);
  } catch (err) {
    throw new Error(`${FACTS_ENV} ${file}: cannot record a fact (${(err as Error).message})`);
  }
}

/** The facts of a file, in the order they were recorded; a line that is not a fact is an error naming it. */
export function readFacts(file: string): RunFact[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        const fact = JSON.parse(line) as RunFact;
        if (!['backend', 'hyperparameters', 'evaluation'].includes(fact.kind)) throw new Error(`unknown kind ${String(fact.kind)}`);
        return fact;
      } catch (err) {
        throw new Error(`${file}: line ${i + 1} is not a run fact (${(err as Error).message})`);
      }
    });
}
