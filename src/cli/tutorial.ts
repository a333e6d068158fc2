/**
 * `npm run tutorial [-- --epochs 3 --train-samples 6000 …]`: notebook 01 as a plain Node program,
 * the way the seed runs as a Python script. It runs the notebook's own code cells in order
 * (notebook-program.ts), printing each step's heading, so the program and the notebook cannot
 * drift apart. Figures go where `plt.show()` would put them: a browser tab through nodeplotlib
 * where there is a screen, else HTML files under reports/figures/ (FMNIST_PLOTS=files|nodeplotlib
 * chooses). The same hyperparameter names as the notebook, in kebab-case.
 */
import path from 'node:path';
import { OVERRIDES_ENV } from '../core/config';
import { commandLine } from './args';
import { ROOT, printBanner, runMain } from './common';
import { runNotebook } from './notebook-program';
import { figuresDir, plotMode } from '../display/display';
import { checkNotebook, checkWritableFolder } from './preflight';

export const TUTORIAL_COMMAND = {
  command: 'npm run tutorial',
  summary: "Runs notebook 01's code cells in order as one Node program, the way the seed runs as a Python script.",
  hyperparameters: true,
  options: {},
} as const;

/** The notebook this command runs. */
const TUTORIAL_NOTEBOOK = path.join(ROOT, 'notebooks', '01-fashion-mnist-convnet.ipynb');

runMain(async () => {
  const { overrides } = commandLine(TUTORIAL_COMMAND);
  // The data are loaded and checked by the notebook's first step, before any training.
  checkNotebook(TUTORIAL_NOTEBOOK);
  // In files mode the figures are written as the steps run; a folder that takes none is found now.
  if (plotMode() === 'files') checkWritableFolder(figuresDir(), 'figures folder');
  printBanner('tutorial');
  // The notebook's hyperparameter cell reads the overrides as it does under `npm run export`.
  process.env[OVERRIDES_ENV] = JSON.stringify(overrides);
  await runNotebook(TUTORIAL_NOTEBOOK);
  return 0;
});
