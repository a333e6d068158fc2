/**
 * `npm run bench -- --tutorial [--epochs N] [--train-samples N] [--rounds N] [--model seed|vgg7]
 * [--augment none|on-the-fly]`: where the learner waits, measured in one invocation with the sides
 * interleaved (each in a fresh process):
 *
 * - notebook 01 run headless with its defaults (what `npm run export` does: kernel start, every
 *   cell, all figures, the HTML) against the seed's Keras script end to end
 *   (`bench_keras.py --tutorial-epochs`), with the same epochs and training images;
 * - one training epoch inside the project's tslab kernel with the live progress display, against
 *   the same epoch with the bare `fit` in a plain node process, and the same epoch in Keras. These
 *   take `--model` and `--augment`; notebook 01 always trains the seed model without augmentation.
 *
 * The kernel-side and bare-side epochs run the same function (`epochProbe` below), so the only
 * difference between them is the process they run in and the progress display.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../core/paths';
import { foreignEnv } from '../core/threads';
import { KERNEL_NAME, ROOT, VENV_PYTHON, jupyterEnv, timedChild } from './common';

export type BenchModel = 'seed' | 'vgg7';
export type BenchAugment = 'none' | 'on-the-fly';

export interface TutorialBenchOptions {
  /** Rounds; each runs every side once, in turn. Default 1 (a full round takes several minutes). */
  rounds?: number;
  /** Epochs of notebook 01 and of the Keras script. Default: notebook 01's own (15). */
  epochs?: number;
  /** Training images, the first N. Default: notebook 01's own (all 60,000). */
  trainSamples?: number;
  /** The model of the single-epoch comparison. Default 'seed'. */
  model?: BenchModel;
  /** On-the-fly augmentation in the single-epoch comparison. Default 'none'. */
  augment?: BenchAugment;
}

/** One round's wall and epoch times, in seconds. */
export interface TutorialRound {
  notebook_s: number;
  keras_script_s: number;
  kernel_epoch_s: number;
  bare_epoch_s: number;
  keras_epoch_s: number;
  /** CPU seconds (all threads, user + system) of the kernel's and the bare process's epoch. */
  kernel_epoch_cpu_s: number;
  bare_epoch_cpu_s: number;
}

/** What the probe reports from inside a kernel or a bare process. */
interface ProbeResult {
  epoch_s: number;
  /** CPU time of the whole process during the timed fit: unlike wall time, it hardly moves when other jobs share the machine. */
  cpu_s: number;
  val_acc: number;
  engine: string;
  /** Minor page faults during the fit: memory the process had to take from the system afresh. */
  page_faults: number;
}

export interface ProbeOptions {
  model: BenchModel;
  augment: BenchAugment;
  trainSamples: number;
  /** Show the live progress display (trainingMonitor, verbose 1), as notebook 01 does. */
  monitor: boolean;
  /** Where to write the result as JSON (written to a temporary file, then renamed). */
  out: string;
}

/**
 * One timed training epoch (validation split 0.25, batch 32), after a warm-up on 320 images so
 * that creating TensorFlow's kernels and compiling the graph step are not counted on either side.
 * Runs inside the kernel (from the generated notebook) and in a bare node process alike.
 */
export async function epochProbe(options: ProbeOptions): Promise<void> {
  const fm = await import('../index');
  const { tf } = fm;
  const data = await fm.loadFashionMnist({ quiet: true });
  const all = fm.toTensors(data, { trainSamples: options.trainSamples, testSamples: 100 });
  const x = fm.reshape(fm.normalize(all.trainX), [-1, ...fm.INPUT_SHAPE]);
  const build = options.model === 'vgg7' ? fm.buildVgg7Model : fm.buildSeedModel;
  const net = build({ seed: 42 });
  net.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const augment = () =>
    options.augment === 'on-the-fly'
      ? new fm.ImageDataGenerator({ ...fm.augmentOptionsFrom(fm.DEFAULT_HYPERPARAMETERS), seed: 42 })
      : undefined;
  const warmX = x.slice(0, 320);
  const warmY = all.trainY.slice(0, 320);
  await fm.fit(net, warmX, warmY, { epochs: 1, batchSize: 32, augment: augment() }).done;
  const cpuBefore = process.cpuUsage();
  const faultsBefore = process.resourceUsage().minorPageFault;
  const run = fm.fit(net, x, all.trainY, {
    epochs: 1,
    batchSize: 32,
    validationSplit: 0.25,
    seed: 42,
    augment: augment(),
    callbacks: options.monitor ? fm.trainingMonitor({ verbose: 1 }) : undefined,
  });
  await run.done;
  const cpu = process.cpuUsage(cpuBefore);
  const pageFaults = process.resourceUsage().minorPageFault - faultsBefore;
  tf.dispose([warmX, warmY, x, all.trainX, all.trainY, all.testX, all.testY]);
  net.optimizer.dispose();
  net.dispose();
  const result: ProbeResult = { epoch_s: run.history.seconds[0], cpu_s: (cpu.user + cpu.system) / 1e6, val_acc: run.history.val_acc[0], engine: run.history.engine ?? '', page_faults: pageFaults };
  writeFileAtomic(options.out, JSON.stringify(result));
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The medians over rounds and their ratios: the JSON line's numbers (also the table's). */
export function summarizeTutorial(rounds: readonly TutorialRound[]) {
  if (rounds.length === 0) throw new RangeError('summarizeTutorial: no rounds');
  const med = (key: keyof TutorialRound) => median(rounds.map((r) => r[key]));
  const notebook = med('notebook_s');
  const kerasScript = med('keras_script_s');
  const kernelEpoch = med('kernel_epoch_s');
  const bareEpoch = med('bare_epoch_s');
  const kerasEpoch = med('keras_epoch_s');
  const kernelCpu = med('kernel_epoch_cpu_s');
  const bareCpu = med('bare_epoch_cpu_s');
  return {
    notebook_s: +notebook.toFixed(1),
    keras_script_s: +kerasScript.toFixed(1),
    tutorial_ratio: +(notebook / kerasScript).toFixed(3),
    kernel_epoch_s: +kernelEpoch.toFixed(2),
    bare_epoch_s: +bareEpoch.toFixed(2),
    kernel_overhead: +(kernelEpoch / bareEpoch - 1).toFixed(3),
    kernel_epoch_cpu_s: +kernelCpu.toFixed(2),
    bare_epoch_cpu_s: +bareCpu.toFixed(2),
    kernel_cpu_overhead: +(kernelCpu / bareCpu - 1).toFixed(3),
    keras_epoch_s: +kerasEpoch.toFixed(2),
    epoch_ratio: +(bareEpoch / kerasEpoch).toFixed(3),
  };
}

/** The table printed above the JSON line. */
export function tutorialTable(s: ReturnType<typeof summarizeTutorial>, model: BenchModel, augment: BenchAugment): string[] {
  const rows: [string, string, string, string][] = [
    ['', 'project', 'reference', 'ratio'],
    ['notebook 01 end to end (s)', s.notebook_s.toFixed(1), `${s.keras_script_s.toFixed(1)} (Keras script)`, s.tutorial_ratio.toFixed(2)],
    [`epoch in the kernel (s, ${model}, ${augment})`, s.kernel_epoch_s.toFixed(2), `${s.bare_epoch_s.toFixed(2)} (bare fit)`, (s.kernel_epoch_s / s.bare_epoch_s).toFixed(2)],
    [`CPU of that epoch (s, all threads)`, s.kernel_epoch_cpu_s.toFixed(2), `${s.bare_epoch_cpu_s.toFixed(2)} (bare fit)`, (s.kernel_epoch_cpu_s / s.bare_epoch_cpu_s).toFixed(2)],
    [`bare epoch (s, ${model}, ${augment})`, s.bare_epoch_s.toFixed(2), `${s.keras_epoch_s.toFixed(2)} (Keras)`, s.epoch_ratio.toFixed(2)],
  ];
  return rows.map((r) => `${r[0].padEnd(40)}${r[1].padStart(10)}${r[2].padStart(22)}${r[3].padStart(8)}`);
}

/** A notebook of one cell that runs epochProbe inside the kernel. */
function probeNotebook(probe: ProbeOptions): string {
  const source = [
    '// Written by `npm run bench -- --tutorial`; one timed epoch inside the kernel.',
    `const bench = require(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'bench-tutorial.js'))});`,
    `await bench.epochProbe(${JSON.stringify(probe)});`,
  ].join('\n');
  return JSON.stringify({
    cells: [{ cell_type: 'code', id: 'probe', metadata: {}, source, outputs: [], execution_count: null }],
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: 'TypeScript (Fashion-MNIST)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

export function lastJson(stdout: string, what: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${what} printed no JSON result`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** Rough wall time of one round, for the line printed before a long run. */
export function expectedRoundSeconds(epochs: number, trainSamples: number, model: BenchModel): number {
  // About 13 s per full seed epoch on the 2-core machine, VGG-7 about 14 times that; each
  // process start (kernel, Python with TensorFlow, data) about 20 s.
  const seedEpoch = 13 * (trainSamples / 60000);
  const probeEpoch = seedEpoch * (model === 'vgg7' ? 14 : 1);
  return 2 * (20 + epochs * seedEpoch) + 3 * (20 + 1.3 * probeEpoch);
}

export async function runTutorialBench(options: TutorialBenchOptions, dataDir: string): Promise<void> {
  const { DEFAULT_HYPERPARAMETERS } = await import('../core/config');
  const rounds = options.rounds ?? 1;
  const epochs = options.epochs ?? DEFAULT_HYPERPARAMETERS.epochs;
  const trainSamples = options.trainSamples ?? DEFAULT_HYPERPARAMETERS.trainSamples;
  const model = options.model ?? 'seed';
  const augment = options.augment ?? 'none';
  const notebook = path.join(ROOT, 'notebooks', '01-fashion-mnist-convnet.ipynb');
  // Inside the project (.cache is ignored by git), so the kernel compiling the probe's cell finds
  // the project's node_modules and its type declarations.
  fs.mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
  const work = fs.mkdtempSync(path.join(ROOT, '.cache', 'bench-'));
  const expected = rounds * expectedRoundSeconds(epochs, trainSamples, model);
  console.log(
    `[bench] tutorial: notebook 01 vs the Keras script, ${epochs} epoch(s) on ${trainSamples} images; one ${model} epoch ` +
      `(augment ${augment}) in the kernel, bare and in Keras; ${rounds} round(s), expected about ${Math.ceil(expected / 60)} min ` +
      'on a quiet 2-core machine',
  );
  const load = [os.loadavg()[0]];
  const overrides = JSON.stringify({ epochs, trainSamples });
  const collected: TutorialRound[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const nb = await timedChild(
        VENV_PYTHON,
        [path.join(ROOT, 'scripts', 'export_notebook.py'), notebook, path.join(work, 'notebook-01.html'), '--kernel', KERNEL_NAME],
        jupyterEnv({ FMNIST_OVERRIDES: overrides, FMNIST_PLOTS: 'jupyter' }),
        'notebook 01',
      );
      console.log(`[bench] round ${round + 1} notebook 01 end to end      ${nb.seconds.toFixed(1)} s`);
      const keras = await timedChild(
        VENV_PYTHON,
        [path.join(ROOT, 'scripts', 'bench_keras.py'), '--data', dataDir, '--tutorial-epochs', String(epochs), '--train-samples', String(trainSamples)],
        foreignEnv(),
        'the Keras script',
      );
      console.log(`[bench] round ${round + 1} Keras script end to end     ${keras.seconds.toFixed(1)} s`);

      const probe = (monitor: boolean): ProbeOptions => ({ model, augment, trainSamples, monitor, out: path.join(work, `probe-${monitor ? 'kernel' : 'bare'}.json`) });
      const inKernel = probe(true);
      fs.writeFileSync(path.join(work, 'probe.ipynb'), probeNotebook(inKernel));
      await timedChild(
        VENV_PYTHON,
        [path.join(ROOT, 'scripts', 'export_notebook.py'), path.join(work, 'probe.ipynb'), path.join(work, 'probe.html'), '--kernel', KERNEL_NAME],
        jupyterEnv({ FMNIST_PLOTS: 'jupyter' }),
        'the epoch in the kernel',
      );
      const kernel = JSON.parse(fs.readFileSync(inKernel.out, 'utf8')) as ProbeResult;
      console.log(`[bench] round ${round + 1} epoch in the kernel         ${kernel.epoch_s.toFixed(2)} s, CPU ${kernel.cpu_s.toFixed(2)} s, ${kernel.page_faults} page faults (${kernel.engine})`);
      const bareOptions = probe(false);
      await timedChild(
        process.execPath,
        ['-e', `require(${JSON.stringify(__filename)}).epochProbe(${JSON.stringify(bareOptions)}).catch((e) => { console.error(String(e)); process.exit(1); })`],
        process.env,
        'the bare epoch',
      );
      const bare = JSON.parse(fs.readFileSync(bareOptions.out, 'utf8')) as ProbeResult;
      console.log(`[bench] round ${round + 1} epoch, bare fit             ${bare.epoch_s.toFixed(2)} s, CPU ${bare.cpu_s.toFixed(2)} s, ${bare.page_faults} page faults`);
      const kerasEpoch = await timedChild(
        VENV_PYTHON,
        [path.join(ROOT, 'scripts', 'bench_keras.py'), '--data', dataDir, '--model', model, '--augment', augment, '--train-samples', String(trainSamples)],
        foreignEnv(),
        'the Keras epoch',
      );
      const kerasEpochS = Number(lastJson(kerasEpoch.stdout, 'the Keras epoch').seconds);
      console.log(`[bench] round ${round + 1} epoch in Keras              ${kerasEpochS.toFixed(2)} s`);
      collected.push({
        notebook_s: nb.seconds, keras_script_s: keras.seconds, kernel_epoch_s: kernel.epoch_s, bare_epoch_s: bare.epoch_s, keras_epoch_s: kerasEpochS,
        kernel_epoch_cpu_s: kernel.cpu_s, bare_epoch_cpu_s: bare.cpu_s,
      });
      load.push(os.loadavg()[0]);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const summary = summarizeTutorial(collected);
  for (const line of tutorialTable(summary, model, augment)) console.log(line);
  console.log(JSON.stringify({
    mode: 'tutorial',
    epochs,
    train_samples: trainSamples,
    model,
    augment,
    rounds,
    ...summary,
    // The 1-minute load average before and after each round: a figure measured on a busy machine says so.
    load_average: load.map((l) => +l.toFixed(2)),
    cpus: os.cpus().length,
    date: new Date().toISOString(),
  }));
}
