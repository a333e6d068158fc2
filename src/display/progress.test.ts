import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisplayMessage, withFakeKernel } from '../../test/support';
import { emptyHistory, type History } from '../training/history';
import { formatDuration, trainingMonitor, type TrainingMonitor } from './progress';

const BUNDLE_MARK = 'plotly.js v4.1.2';

/** Drives a monitor as a training run would: `batches` batches per epoch, then the epoch's logs. */
function simulateFit(monitor: TrainingMonitor, epochs: number, batches: number, opts: { stopAfter?: number } = {}): History {
  const history = emptyHistory();
  monitor.onTrainBegin?.({ epochs, batchesPerEpoch: batches, trainSamples: batches * 32, validationSamples: 100 });
  const last = opts.stopAfter ?? epochs;
  for (let e = 0; e < last; e++) {
    for (let b = 0; b < batches; b++) monitor.onBatchEnd?.(b, { loss: 1 / (e + 1), acc: 0.5 + e * 0.1 });
    const logs = { loss: 1 / (e + 1), acc: 0.5 + e * 0.1, val_loss: 0.9 / (e + 1), val_acc: 0.55 + e * 0.1, seconds: 12.3 };
    history.loss.push(logs.loss);
    history.acc.push(logs.acc);
    history.val_loss.push(logs.val_loss);
    history.val_acc.push(logs.val_acc);
    history.seconds.push(logs.seconds);
    monitor.onEpochEnd?.(e, logs, history);
  }
  monitor.onTrainEnd?.(history, last < epochs);
  return history;
}

/** Runs body with stdout captured and its isTTY set as given. */
function captureStdout(tty: boolean, body: () => void): string {
  const original = process.stdout.write;
  const originalTTY = process.stdout.isTTY;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  process.stdout.isTTY = tty;
  try {
    body();
  } finally {
    process.stdout.write = original;
    process.stdout.isTTY = originalTTY;
  }
  return out;
}

test('verbose 0 prints nothing', () => {
  const out = captureStdout(true, () => simulateFit(trainingMonitor({ verbose: 0 }), 2, 5));
  assert.equal(out, '');
});

test('verbose 2 prints one line per epoch, as Keras', () => {
  const out = captureStdout(true, () => simulateFit(trainingMonitor({ verbose: 2 }), 2, 5));
  assert.ok(!out.includes('\r'));
  assert.deepEqual(out.split('\n'), [
    'Epoch 1/2',
    '5/5 - 12s - loss: 1.0000 - acc: 0.5000 - val_loss: 0.9000 - val_acc: 0.5500 - 2s/step',
    'Epoch 2/2',
    '5/5 - 12s - loss: 0.5000 - acc: 0.6000 - val_loss: 0.4500 - val_acc: 0.6500 - 2s/step',
    '',
  ]);
});

test('verbose 1 without a terminal prints only each epoch summary', () => {
  const out = captureStdout(false, () => simulateFit(trainingMonitor({ verbose: 1, batchEvery: 0 }), 2, 5));
  assert.ok(!out.includes('\r'));
  const bar = `[${'='.repeat(30)}]`;
  assert.deepEqual(out.split('\n'), [
    'Epoch 1/2',
    `5/5 ${bar} - 12s 2s/step - loss: 1.0000 - acc: 0.5000 - val_loss: 0.9000 - val_acc: 0.5500`,
    'Epoch 2/2',
    `5/5 ${bar} - 12s 2s/step - loss: 0.5000 - acc: 0.6000 - val_loss: 0.4500 - val_acc: 0.6500`,
    '',
  ]);
});

test('verbose 1 on a terminal redraws a progress bar in place', () => {
  const out = captureStdout(true, () => simulateFit(trainingMonitor({ verbose: 1, batchEvery: 0 }), 2, 5));
  const lines = out.split('\n');
  assert.equal(lines.length, 5, 'two headers, two finished bars, nothing after the last newline');
  assert.equal(lines[0], 'Epoch 1/2');
  const frames = lines[1].split('\r').slice(1);
  assert.equal(frames.length, 6, 'five batch frames and the summary');
  assert.match(frames[0], /^1\/5 \[=====>\.{24}\] - ETA: \d+s - loss: 1\.0000 - acc: 0\.5000 *$/);
  assert.match(frames[2], /^3\/5 \[=================>\.{12}\]/);
  assert.match(frames[5], /^5\/5 \[={30}\] - 12s 2s\/step - loss: 1\.0000 .* - val_acc: 0\.5500$/);
  assert.equal(lines[2], 'Epoch 2/2');
});

test('batchEvery throttles terminal redraws', () => {
  const out = captureStdout(true, () => simulateFit(trainingMonitor({ verbose: 1, batchEvery: 60_000 }), 2, 50));
  // Within a minute only each epoch's first batch is drawn, then its summary.
  assert.equal(out.split('\r').length - 1, 4);
});

test('an interrupted run says so and how many epochs are kept', () => {
  const monitor = trainingMonitor({ verbose: 1, batchEvery: 0 });
  const out = captureStdout(true, () => simulateFit(monitor, 5, 4, { stopAfter: 1 }));
  assert.match(out, /학습이 중단되었습니다\. 끝난 에포크 1개의 기록을 보존합니다\./);
  assert.match(out, /Training was interrupted; the history keeps the 1 completed epoch\./);
  assert.equal(monitor.history().loss.length, 1);
  const silent = captureStdout(false, () => simulateFit(trainingMonitor({ verbose: 0 }), 5, 4, { stopAfter: 2 }));
  assert.match(silent, /keeps the 2 completed epochs/, 'the note is printed even at verbose 0');
});

test('history() returns a copy of the epochs so far', () => {
  const monitor = trainingMonitor({ verbose: 0 });
  captureStdout(false, () => simulateFit(monitor, 3, 2));
  const h = monitor.history();
  assert.deepEqual(h.loss, [1, 0.5, 1 / 3]);
  h.loss.push(99);
  assert.equal(monitor.history().loss.length, 3);
});

test('verbose other than 0, 1, 2 is rejected', () => {
  assert.throws(() => trainingMonitor({ verbose: 3 }), /0, 1 or 2/);
  assert.throws(() => trainingMonitor({ batchEvery: -1 }), /batchEvery/);
});

test('a run without validation leaves the val_ metrics out', () => {
  const monitor = trainingMonitor({ verbose: 2 });
  const out = captureStdout(false, () => {
    const h = emptyHistory();
    monitor.onTrainBegin?.({ epochs: 1, batchesPerEpoch: 2, trainSamples: 64, validationSamples: 0 });
    Object.assign(h, { loss: [0.5], acc: [0.8], val_loss: [NaN], val_acc: [NaN], seconds: [0.004] });
    monitor.onEpochEnd?.(0, { loss: 0.5, acc: 0.8, val_loss: NaN, val_acc: NaN, seconds: 0.004 }, h);
  });
  assert.equal(out, 'Epoch 1/1\n2/2 - 0s - loss: 0.5000 - acc: 0.8000 - 2ms/step\n');
});

test('formatDuration follows Keras', () => {
  assert.equal(formatDuration(8.4), '8s');
  assert.equal(formatDuration(62), '1:02');
  assert.equal(formatDuration(3723), '1:02:03');
});


test('in Jupyter: a progress display and a chart, each updated in place', () => {
  withFakeKernel((messages) => {
    const out = captureStdout(true, () => simulateFit(trainingMonitor({ verbose: 1, batchEvery: 0 }), 3, 4));
    assert.equal(out, '', 'nothing on stdout in a notebook');
    const html = (m: { msg: DisplayMessage }): string => m.msg.data['text/html'] ?? '';

    // First the bundle, as an output of its own, then the two live displays.
    assert.equal(messages[0].msg.transient.display_id, undefined);
    assert.equal(html(messages[0]).split(BUNDLE_MARK).length - 1, 1);
    const ids = [...new Set(messages.slice(1).map((m) => m.msg.transient.display_id))];
    assert.equal(ids.length, 2, 'two live displays: progress and chart');
    assert.ok(ids.every((id) => typeof id === 'string'));
    const [progressId, chartId] = ids;
    const progress = messages.filter((m) => m.msg.transient.display_id === progressId);
    const chart = messages.filter((m) => m.msg.transient.display_id === chartId);
    assert.deepEqual(
      [progress[0].update, chart[0].update].map(Boolean),
      [false, false],
    );
    assert.ok(progress.slice(1).every((m) => m.update === true), 'later progress messages are updates');
    assert.ok(chart.slice(1).every((m) => m.update === true), 'later chart messages are updates');
    assert.ok(progress.length >= 3 * 4, 'a redraw per batch with batchEvery 0');

    const during = progress.find((m) => /2\/4 배치 batches/.test(html(m)));
    assert.ok(during, 'the bar shows the batch count');
    assert.match(html(during), /에포크 Epoch 1\/3/);
    assert.match(html(during), /width:50\.0%/);

    const final = html(progress[progress.length - 1]);
    assert.match(final, /완료 Done/);
    assert.equal(final.split('<tr>').length - 1, 4, 'header and three epochs in the table');
    assert.match(final, /0\.3333/);

    // The chart grows: one figure per epoch (and once more at the end), never the bundle.
    const figures = chart.filter((m) => html(m).includes('Plotly.newPlot'));
    assert.ok(figures.length >= 3);
    assert.ok(chart.every((m) => !html(m).includes(BUNDLE_MARK)));
    assert.match(html(figures[0]), /"y":\[1\]/);
    assert.match(html(figures[figures.length - 1]), /"y":\[1,0\.5,0\.3333333333333333\]/);
  });
});

test('in Jupyter: verbose 0 and chart=false show nothing; an interruption is still noted', () => {
  withFakeKernel((messages) => {
    simulateFit(trainingMonitor({ verbose: 0, chart: false }), 3, 4);
    assert.equal(messages.length, 0);
    simulateFit(trainingMonitor({ verbose: 0, chart: false }), 3, 4, { stopAfter: 1 });
    assert.equal(messages.length, 1);
    assert.match(messages[0].msg.data['text/html'], /keeps the 1 completed epoch\./);
  });
  withFakeKernel((messages) => {
    simulateFit(trainingMonitor({ verbose: 2, chart: false }), 3, 4, { stopAfter: 2 });
    const last = messages[messages.length - 1];
    assert.equal(last.update, true);
    assert.match(last.msg.data['text/html'], /학습이 중단되었습니다/);
    assert.ok(messages.every((m) => !m.msg.data['text/html'].includes('배치 batches')), 'verbose 2 has no batch bar');
  });
});
