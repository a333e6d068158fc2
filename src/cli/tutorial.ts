/**
 * `npm run tutorial [-- --epochs 3 --train-samples 6000 …]`: notebook 01 as a plain Node program,
 * the way the seed runs as a Python script. It runs the notebook's own code cells in order
 * (notebook-program.ts), printing each step's heading, so the program and the notebook cannot
 * drift apart. Figures go where `plt.show()` would put them: a browser tab through nodeplotlib
 * where there is a screen, else HTML files under reports/figures/ (FMNIST_PLOTS=files|nodeplotlib
 * chooses). The same hyperparameter names as the notebook, in kebab-case.
 */
import path from 'node:path';
import { OVERRIDES_ENV, parseCommandLine } from '../core/config';
import { ROOT, printBanner, runMain } from './common';
import { runNotebook } from './notebook-program';

/** The notebook this command runs. */
const TUTORIAL_NOTEBOOK = path.join(ROOT, 'notebooks', '01-fashion-mnist-convnet.ipynb');

runMain(async () => {
  const { positional, overrides } = parseCommandLine(process.argv.slice(2));
  if (positional.length) throw new Error(`unexpected argument '${positional[0]}'; usage: npm run tutorial -- [--name value …]`);
  printBanner('tutorial');
  // The notebook's hyperparameter cell reads the overrides as it does under `npm run export`.
  process.env[OVERRIDES_ENV] = JSON.stringify(overrides);
  await runNotebook(TUTORIAL_NOTEBOOK);
  return 0;
});
