/**
 * `npm run data`: finds or downloads Fashion-MNIST, checks every file, and prints what a learner
 * should see before the first notebook: where the data came from, that each file is the official
 * one, the counts, shapes and class balance, and the first labels the seed's book prints.
 * Honours FASHION_MNIST_DIR, FASHION_MNIST_CACHE_DIR, FASHION_MNIST_SYSTEM_DIR and
 * FASHION_MNIST_MIRROR (see LoadOptions in src/data/load.ts).
 */
import { describeDataset, formatDatasetFacts, loadFashionMnist } from '../data/load';
import { commandLine } from './args';
import { debugging } from './common';

export const DATA_COMMAND = {
  command: 'npm run data',
  summary:
    'Finds or downloads Fashion-MNIST, checks every file against the official checksums, and prints where the data came from, ' +
    'the counts, shapes and class balance. FASHION_MNIST_DIR, FASHION_MNIST_CACHE_DIR and FASHION_MNIST_MIRROR choose the place.',
  options: {},
} as const;

async function main(): Promise<void> {
  commandLine(DATA_COMMAND);
  // Loaded here rather than at the top, so that a broken native binding is reported as one
  // `error:` line like every other problem, not as a stack trace from the module loader.
  const { describeBackend } = await import('../core/backend');
  console.log(describeBackend());
  const dataset = await loadFashionMnist();
  for (const line of formatDatasetFacts(describeDataset(dataset))) console.log(line);
}

main().catch((err: unknown) => {
  // Expected problems (a damaged file, no network) are DataErrors whose message says everything;
  // the stack would only bury it. Anything else is shown the same way, on one line.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (debugging() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
