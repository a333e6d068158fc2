/**
 * TensorFlow's two thread pools: `intraOp` threads share one op, `interOp` ops run at once.
 * TensorFlow reads both sizes once, when it loads, so core/backend.ts imports this module before
 * the native library. On this project's models one op is too small to keep two cores busy (a
 * seed-model step is no faster with two threads per op than with one, docs/performance.md), so by
 * default each op gets half the cores and two ops run at once, and the graph engine computes the
 * two halves of every batch side by side (FitOptions.splitBatch). The price is paid by what runs
 * op by op through tfjs, one op at a time: evaluating the 10,000 test images with `fm.evaluate`
 * takes about 1.3 s instead of 0.8 s, and an epoch on the eager engine (a model without graph
 * rules) about 6 % longer, against about 4 s saved in every seed-model epoch. Sizes set beforehand
 * (TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS, or full-run's --threads) are kept. No
 * TensorFlow is loaded here, so a command may read this before deciding to load it.
 */
import os from 'node:os';

/** Marks sizes this module chose, so that processes started from here can tell them from a user's. */
const CHOSEN_HERE = 'FMNIST_TF_THREADS_DEFAULT';

function sizePools(): { intraOp: number; interOp: number } {
  const cores = os.availableParallelism();
  if (cores >= 2 && process.env.TF_NUM_INTRAOP_THREADS === undefined && process.env.TF_NUM_INTEROP_THREADS === undefined) {
    process.env.TF_NUM_INTRAOP_THREADS = String(Math.floor(cores / 2));
    process.env.TF_NUM_INTEROP_THREADS = '2';
    process.env[CHOSEN_HERE] = '1';
  }
  // TensorFlow takes 0, or a value it cannot read, as "one per core".
  const read = (name: string) => Math.max(0, Number.parseInt(process.env[name] ?? '', 10) || 0) || cores;
  return { intraOp: read('TF_NUM_INTRAOP_THREADS'), interOp: read('TF_NUM_INTEROP_THREADS') };
}

/** The sizes this process's TensorFlow runs with. */
export const TF_THREADS: Readonly<{ intraOp: number; interOp: number }> = sizePools();

/**
 * `env` without the sizes this project chose, for a program that is not this project's (the
 * Keras reference of `npm run bench`): it runs with TensorFlow's own defaults, as a learner runs
 * it. Sizes a user set are passed on.
 */
export function foreignEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env[CHOSEN_HERE] !== '1') return env;
  const { TF_NUM_INTRAOP_THREADS: _intra, TF_NUM_INTEROP_THREADS: _inter, [CHOSEN_HERE]: _mark, ...rest } = env;
  return rest;
}
