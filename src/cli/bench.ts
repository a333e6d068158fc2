/**
 * `npm run bench [-- --quick | --full] [--rounds N] [--model seed|vgg7] [--batches N]`: the
 * project's training path (the `fit` the notebooks use, on tfjs-node) against the seed's own
 * (Keras on TensorFlow CPU), interleaved in one invocation, on the same files, model, optimizer
 * and batch size. A benchmark, not a test: it prints a table and one JSON line. `--tutorial` measures
 * the notebook and the kernel instead (bench-tutorial.ts).
 *
 * Each measurement runs in a fresh child process, so peak RSS is that run's alone and neither
 * side warms the other's caches. Both sides warm up on 10 batches first (Keras traces its graph,
 * tfjs creates its kernels), then time one epoch: training on 75 % and validating on 25 %.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { foreignEnv } from '../core/threads';
import type { FitOptions } from '../training/fit';
import { commandLine } from './args';
import { ROOT, VENV_PYTHON, printBanner, runMain, timedChild } from './common';
import { type BenchModel, lastJson, median, runTutorialBench } from './bench-tutorial';

interface RunResult {
  impl: 'tfjs' | 'keras';
  seconds: number;
  train_images: number;
  val_images: number;
  loss: number;
  val_acc: number;
  test_loss: number;
  test_acc: number;
  peak_rss_mb: number;
}

/** Multiply-adds ×2 of one forward pass per image, from the layer shapes. */
const FORWARD_FLOP: Record<BenchModel, number> = {
  // conv 2·k²·cin·cout·H·W, dense 2·in·out (see docs/performance.md).
  seed: 2 * (9 * 1 * 32 * 26 * 26 + 9 * 32 * 64 * 11 * 11 + 9 * 64 * 128 * 3 * 3 + 1152 * 128 + 128 * 10),
  vgg7: 2 * (9 * 1 * 32 * 784 + 9 * 32 * 64 * 784 + 9 * 64 * 128 * 196 + 9 * 128 * 256 * 144 + 6 * 6 * 256 * 512 + 512 * 256 + 256 * 10),
};

/**
 * The training paths, for before/after comparisons: the graph step (the default), the lean eager
 * loop, the eager loop with tfjs' own Adam and loss, and tfjs' own `model.fit` (where a plain port
 * of the seed starts; the others are this project's `fit`).
 */
const ENGINES: Record<string, Partial<FitOptions> | 'model.fit'> = {
  graph: { engine: 'graph' },
  eager: { engine: 'eager' },
  'eager-tfjs': { engine: 'eager', flatAdam: false, fromLogits: false },
  'tfjs-fit': 'model.fit',
};

export const BENCH_COMMAND = {
  command: 'npm run bench',
  summary:
    "Times one epoch of the project's training (tfjs-node) against the seed's Keras on TensorFlow CPU, interleaved, on the same data, " +
    'model, optimizer and batch size; prints a table and one JSON line.',
  options: {
    quick: { type: 'boolean', help: 'time 200 batches instead of a full epoch (the default)' },
    full: { type: 'boolean', help: 'time a full epoch: 45,000 training and 15,000 validation images' },
    batches: { type: 'integer', min: 0, max: 1875, default: 200, help: 'batches to time; 0 is a full epoch' },
    rounds: { type: 'integer', min: 1, max: 100, help: 'rounds of both sides; the median is reported (default 2; 1 with --tutorial, whose round takes minutes)' },
    model: { type: 'string', choices: Object.keys(FORWARD_FLOP) as BenchModel[], default: 'seed', help: 'the model timed' },
    tutorial: { type: 'boolean', help: 'notebook 01 headless against the seed\'s Keras script end to end, and one epoch in a kernel against the bare fit' },
    augment: { type: 'string', choices: ['none', 'on-the-fly'], default: 'none', help: 'with --tutorial: on-the-fly augmentation on both sides' },
    epochs: { type: 'integer', min: 1, max: 1000, help: "with --tutorial: epochs of both sides (default: the notebook's)" },
    'train-samples': { type: 'integer', min: 100, max: 60000, help: "with --tutorial: training images of both sides (default: the notebook's)" },
    engine: { type: 'string', choices: Object.keys(ENGINES), default: 'graph', help: "the project's training path timed" },
    // How the command starts each tfjs measurement in a fresh process of its own.
    worker: { type: 'string', choices: ['tfjs', 'peak'], hidden: true, help: 'run one tfjs measurement (or the matmul peak) in this process' },
  },
} as const;

function benchOptions() {
  const { options } = commandLine(BENCH_COMMAND);
  if (options.quick && options.full) throw new Error('--quick and --full: choose one');
  if (!options.tutorial && (options.augment !== 'none' || options.epochs !== undefined || options['train-samples'] !== undefined)) {
    throw new Error('--augment, --epochs and --train-samples belong to --tutorial');
  }
  return {
    ...options,
    batches: options.full ? 0 : options.quick ? 200 : options.batches,
    rounds: options.rounds ?? (options.tutorial ? 1 : 2),
    trainSamples: options['train-samples'],
  };
}

/** One timed tfjs epoch (or `batches` batches), in this process. */
async function tfjsWorker(model: string, batches: number, engine: Partial<FitOptions> | 'model.fit'): Promise<void> {
  const fm = await import('../index');
  const { tf } = fm;
  const data = await fm.loadFashionMnist({ quiet: true });
  const all = fm.toTensors(data);
  const x = fm.reshape(fm.normalize(all.trainX), [-1, ...fm.INPUT_SHAPE]);
  const testX = fm.reshape(fm.normalize(all.testX), [-1, ...fm.INPUT_SHAPE]);
  const build = model === 'vgg7' ? fm.buildVgg7Model : fm.buildSeedModel;
  const net = build({ seed: 42 });
  net.compile({ optimizer: tf.train.adam(0.001, 0.9, 0.999, 1e-7), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const warm = x.slice(0, 320);
  const warmY = all.trainY.slice(0, 320);
  // tfjs' model.fit wants float labels for its sparse cross-entropy.
  const tfjsFit = async (xs: typeof x, ys: typeof all.trainY, validationSplit: number) => {
    const labels = ys.toFloat();
    const h = await net.fit(xs, labels, { epochs: 1, batchSize: 32, validationSplit, verbose: 0 });
    labels.dispose();
    return h;
  };
  if (engine === 'model.fit') await tfjsFit(warm, warmY, 0);
  else await fm.fit(net, warm, warmY, { epochs: 1, batchSize: 32, ...engine }).done;
  tf.dispose([warm, warmY]);

  let xs: typeof x = x;
  let ys = all.trainY;
  let split = 0.25;
  if (batches) {
    const nTrain = batches * 32;
    const nVal = Math.floor(nTrain / 3);
    xs = x.slice(0, nTrain + nVal);
    ys = all.trainY.slice(0, nTrain + nVal);
    split = nVal / (nTrain + nVal);
  }
  const started = performance.now();
  let info = { trainSamples: 0, validationSamples: 0 };
  let history: { loss: number[]; val_acc: number[] };
  if (engine === 'model.fit') {
    const h = await tfjsFit(xs, ys, split);
    const nTrain = Math.floor(xs.shape[0] * (1 - split));
    info = { trainSamples: nTrain, validationSamples: xs.shape[0] - nTrain };
    history = { loss: h.history.loss as number[], val_acc: h.history.val_acc as number[] };
  } else {
    const run = fm.fit(net, xs, ys, {
      epochs: 1, batchSize: 32, validationSplit: split, seed: 42, ...engine,
      callbacks: { onTrainBegin: (i) => (info = i) },
    });
    await run.done;
    history = run.history;
  }
  const seconds = (performance.now() - started) / 1000;
  const [testLoss, testAcc] = fm.evaluate(net, testX, all.testY);
  const result: RunResult = {
    impl: 'tfjs',
    seconds,
    train_images: info.trainSamples,
    val_images: info.validationSamples,
    loss: history.loss[0],
    val_acc: history.val_acc[0],
    test_loss: testLoss,
    test_acc: testAcc,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

/** Float32 matmul throughput of this machine through TensorFlow's own kernels (GFLOP/s). */
async function matmulPeak(): Promise<number> {
  const { tf } = await import('../core/backend');
  const n = 1024;
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  // Reading the product back is slow when oneDNN keeps it in its own layout (a second for a
  // 1024² result here), so each product is reduced to one number before the read.
  const once = () => tf.tidy(() => tf.sum(tf.matMul(a, b)).dataSync());
  once();
  let best = 0;
  for (let trial = 0; trial < 3; trial++) {
    const reps = 10;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) once();
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (2 * n ** 3 * reps) / s / 1e9);
  }
  tf.dispose([a, b]);
  return best;
}

function ensureKeras(): void {
  const probe = spawnSync(VENV_PYTHON, ['-c', 'import tensorflow, keras'], { encoding: 'utf8' });
  if (probe.status === 0) return;
  console.log('[bench] installing the Keras reference into .venv (requirements-bench.txt, once)');
  const cache = path.join(ROOT, '.cache', 'tensorflow');
  const args = ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', path.join(ROOT, 'requirements-bench.txt')];
  if (fs.existsSync(cache)) args.push('--find-links', cache);
  const r = spawnSync(VENV_PYTHON, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not install requirements-bench.txt into .venv');
}

/** One measurement in a fresh process: its last JSON line. */
async function runWorker(cmd: string, args: string[], env = process.env): Promise<RunResult> {
  const { stdout } = await timedChild(cmd, args, env, path.basename(args[0] ?? cmd));
  return lastJson(stdout, path.basename(args[0] ?? cmd)) as unknown as RunResult;
}


runMain(async () => {
  const opts = benchOptions();
  if (opts.worker === 'tfjs') {
    await tfjsWorker(opts.model, opts.batches, ENGINES[opts.engine]);
    return 0;
  }
  if (opts.worker === 'peak') {
    console.log(JSON.stringify({ gflops: await matmulPeak() }));
    return 0;
  }
  printBanner('bench');
  ensureKeras();
  const fm = await import('../data/load');
  const data = await fm.loadFashionMnist({ quiet: true });
  if (opts.tutorial) {
    const { rounds, epochs, trainSamples } = opts;
    await runTutorialBench({ rounds, epochs, trainSamples, model: opts.model, augment: opts.augment }, data.dir);
    return 0;
  }
  // The machine's peak is one large matmul with every core on it, so it is measured in a process
  // of its own with TensorFlow's default pools (0: one thread per core) instead of this project's
  // (core/threads.ts).
  const peakEnv = { ...foreignEnv(), TF_NUM_INTRAOP_THREADS: '0', TF_NUM_INTEROP_THREADS: '0' };
  const peak = Number(lastJson((await timedChild(process.execPath, [__filename, '--worker', 'peak'], peakEnv, 'the matmul peak')).stdout, 'the matmul peak').gflops);
  const mode = opts.batches ? `quick (${opts.batches} batches + ${Math.floor((opts.batches * 32) / 3)} validation images)` : 'full epoch (45,000 + 15,000)';
  console.log(`[bench] model ${opts.model}, batch 32, ${mode}, tfjs engine ${opts.engine}, ${opts.rounds} round(s), matmul peak ${peak.toFixed(1)} GFLOP/s`);
  const runs: RunResult[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const impl of ['tfjs', 'keras'] as const) {
      const r = impl === 'tfjs'
        ? await runWorker(process.execPath, [__filename, '--worker', 'tfjs', '--model', opts.model, '--batches', String(opts.batches), '--engine', opts.engine])
        : await runWorker(VENV_PYTHON, [path.join(ROOT, 'scripts', 'bench_keras.py'), '--data', data.dir, '--model', opts.model, '--batches', String(opts.batches)], foreignEnv());
      runs.push(r);
      console.log(`[bench] round ${round + 1} ${impl.padEnd(5)} ${r.seconds.toFixed(2)} s  test acc ${r.test_acc.toFixed(4)}  peak RSS ${r.peak_rss_mb.toFixed(0)} MB`);
    }
  }
  const flopPerEpoch = (r: RunResult) => FORWARD_FLOP[opts.model] * (3 * r.train_images + r.val_images);
  const summary = (impl: 'tfjs' | 'keras') => {
    const mine = runs.filter((r) => r.impl === impl);
    const seconds = median(mine.map((r) => r.seconds));
    // Per-epoch seconds: a quick run is scaled to the 45,000 + 15,000 images of a full epoch.
    const scale = (FORWARD_FLOP[opts.model] * (3 * 45000 + 15000)) / flopPerEpoch(mine[0]);
    const gflops = flopPerEpoch(mine[0]) / seconds / 1e9;
    return {
      s_per_epoch: seconds * scale,
      images_per_s: (mine[0].train_images + mine[0].val_images) / seconds,
      gflops,
      peak_share: gflops / peak,
      peak_rss_mb: Math.max(...mine.map((r) => r.peak_rss_mb)),
      test_acc: median(mine.map((r) => r.test_acc)),
    };
  };
  const t = summary('tfjs');
  const k = summary('keras');
  const rows = [
    ['', 'tfjs (project)', 'Keras'],
    ['s per epoch', t.s_per_epoch.toFixed(1), k.s_per_epoch.toFixed(1)],
    ['images/s', t.images_per_s.toFixed(0), k.images_per_s.toFixed(0)],
    ['GFLOP/s', t.gflops.toFixed(1), k.gflops.toFixed(1)],
    ['share of matmul peak', `${(t.peak_share * 100).toFixed(0)} %`, `${(k.peak_share * 100).toFixed(0)} %`],
    ['peak RSS (MB)', t.peak_rss_mb.toFixed(0), k.peak_rss_mb.toFixed(0)],
    ['test accuracy', t.test_acc.toFixed(4), k.test_acc.toFixed(4)],
  ];
  for (const r of rows) console.log(`${r[0].padEnd(22)}${r[1].padStart(16)}${r[2].padStart(12)}`);
  console.log(`ratio (tfjs ÷ Keras, per epoch): ${(t.s_per_epoch / k.s_per_epoch).toFixed(2)}`);
  console.log(JSON.stringify({
    mode: opts.batches ? 'quick' : 'full',
    batches: opts.batches || undefined,
    model: opts.model,
    engine: opts.engine,
    rounds: opts.rounds,
    tfjs_s_per_epoch: +t.s_per_epoch.toFixed(2),
    keras_s_per_epoch: +k.s_per_epoch.toFixed(2),
    ratio: +(t.s_per_epoch / k.s_per_epoch).toFixed(3),
    tfjs_images_per_s: +t.images_per_s.toFixed(0),
    keras_images_per_s: +k.images_per_s.toFixed(0),
    tfjs_gflops: +t.gflops.toFixed(1),
    keras_gflops: +k.gflops.toFixed(1),
    matmul_peak_gflops: +peak.toFixed(1),
    tfjs_peak_share: +t.peak_share.toFixed(3),
    keras_peak_share: +k.peak_share.toFixed(3),
    tfjs_peak_rss_mb: +t.peak_rss_mb.toFixed(0),
    keras_peak_rss_mb: +k.peak_rss_mb.toFixed(0),
    tfjs_test_acc: +t.test_acc.toFixed(4),
    keras_test_acc: +k.test_acc.toFixed(4),
  }));
  return 0;
});
