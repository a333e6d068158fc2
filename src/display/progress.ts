/**
 * Live training progress, as the callbacks a training run calls (TrainingCallbacks in
 * history.ts). In a notebook: a progress bar with a table of finished epochs, updated in place,
 * and a loss/accuracy chart that grows each epoch. In a terminal: Keras' own output for verbose
 * 0, 1 and 2. Introduced in notebook 01, "Training".
 */
import { escapeHtml, ensurePlotly, insideJupyter, newLiveDisplay, showHtml, type LiveDisplay } from './display';
import { historyFigure } from './figures';
import { emptyHistory, type EpochLogs, type History, type TrainingCallbacks } from '../training/history';

export interface TrainingMonitorOptions {
  /**
   * 0 silent, 1 a progress bar per epoch, 2 one line per epoch: as Keras' `fit(verbose=…)`.
   * Default 1. Typed as a number so that a hyperparameter (`hp.verbose`) can be passed as it is;
   * other values are rejected.
   */
  verbose?: number;
  /** In a notebook, also draw the loss/accuracy chart after each epoch. Default true. */
  chart?: boolean;
  /** Redraw the progress bar at most every this many milliseconds. Default 200. */
  batchEvery?: number;
}

export type TrainingMonitor = TrainingCallbacks & {
  /** The epochs finished so far, as the run reported them. */
  history(): History;
};

/** Keras' bar: 30 characters of '=' up to a '>' at the current position, '.' after it. */
const BAR_WIDTH = 30;

function copyHistory(h: History): History {
  return { loss: [...h.loss], acc: [...h.acc], val_loss: [...h.val_loss], val_acc: [...h.val_acc], seconds: [...h.seconds] };
}

/** "8s", "1:02", "1:02:03", as Keras writes durations and ETAs. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Keras' time per step: seconds, milliseconds or microseconds, whichever is at least 1. */
function formatPerStep(seconds: number, steps: number): string {
  if (steps < 1) return '';
  const per = seconds / steps;
  if (per >= 1) return `${Math.round(per)}s/step`;
  if (per >= 1e-3) return `${Math.round(per * 1e3)}ms/step`;
  return `${Math.round(per * 1e6)}us/step`;
}

function progressBar(done: number, total: number): string {
  if (total <= 0) return '';
  const filled = Math.floor((BAR_WIDTH * Math.min(done, total)) / total);
  if (done >= total) return `[${'='.repeat(BAR_WIDTH)}]`;
  const head = filled > 0 ? `${'='.repeat(filled - 1)}>` : '';
  return `[${head}${'.'.repeat(BAR_WIDTH - head.length)}]`;
}

function metrics(logs: Partial<EpochLogs>): string {
  const parts: string[] = [];
  for (const key of ['loss', 'acc', 'val_loss', 'val_acc'] as const) {
    const v = logs[key];
    // A run without validation reports NaN there; Keras then leaves the val_ metrics out.
    if (typeof v === 'number' && Number.isFinite(v)) parts.push(`${key}: ${v.toFixed(4)}`);
  }
  return parts.join(' - ');
}

function interruptedNote(epochs: number): { ko: string; en: string } {
  return {
    ko: `학습이 중단되었습니다. 끝난 에포크 ${epochs}개의 기록을 보존합니다.`,
    en: `Training was interrupted; the history keeps the ${epochs} completed epoch${epochs === 1 ? '' : 's'}.`,
  };
}

const now = (): number => performance.now();

/**
 * Progress callbacks for one training run (or several in turn: each onTrainBegin starts over).
 * Inside Jupyter, verbose 1 shows a bar and the finished epochs, verbose 2 only the epochs, 0
 * nothing; the chart is drawn whatever the verbosity unless chart is false. Outside Jupyter the
 * output is Keras' on stdout; when stdout is not a terminal, verbose 1 prints only each epoch's
 * summary, since a log cannot rewrite a line. The note on an interrupted run is printed even at
 * verbose 0, because otherwise a shortened history would go unexplained.
 */
export function trainingMonitor(options: TrainingMonitorOptions = {}): TrainingMonitor {
  const verbose = options.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) {
    throw new RangeError(`verbose must be 0, 1 or 2, got ${verbose}`);
  }
  const chart = options.chart ?? true;
  const batchEvery = options.batchEvery ?? 200;
  if (!(batchEvery >= 0)) throw new RangeError(`batchEvery must be a number of milliseconds ≥ 0, got ${batchEvery}`);

  let history = emptyHistory();
  let epochs = 0;
  let batchesPerEpoch = 0;
  let trainStart = now();
  let epochStart = trainStart;
  let batchesDone = 0;
  let batchLogs: { loss: number; acc: number } | undefined;
  let lastRender = -Infinity;
  let begun = false;
  let finished: { stopped: boolean } | undefined;

  let jupyter = false;
  /** The engine line of fit's onTrainBegin, e.g. "graph" or "eager — <why>". */
  let engine: string | undefined;
  let progressDisplay: LiveDisplay | undefined;
  let chartDisplay: LiveDisplay | undefined;

  // Terminal state: whether this epoch's "Epoch k/N" is out, and the width of a bar line that
  // is still open (drawn with \r and no newline yet).
  let headerPrinted = false;
  let openLineWidth = 0;

  let displayFailed = false;
  /** A display error must not end a long training run; it is reported once and drawing stops. */
  const guard = (draw: () => void): void => {
    if (displayFailed) return;
    try {
      draw();
    } catch (err) {
      displayFailed = true;
      console.error(`진행 표시 오류, 학습은 계속합니다. Progress display failed; training continues: ${String(err)}`);
    }
  };

  const write = (s: string): void => {
    process.stdout.write(s);
  };
  const isTTY = (): boolean => process.stdout.isTTY === true;
  /** The epoch under way, counted from 1; after the last one it stays at the last. */
  const epochLabel = (): string => {
    const current = history.loss.length + 1;
    return epochs > 0 ? `${Math.min(current, epochs)}/${epochs}` : `${current}/?`;
  };

  function begin(info?: Parameters<NonNullable<TrainingCallbacks['onTrainBegin']>>[0]): void {
    begun = true;
    history = emptyHistory();
    epochs = info?.epochs ?? 0;
    batchesPerEpoch = info?.batchesPerEpoch ?? 0;
    trainStart = now();
    epochStart = trainStart;
    batchesDone = 0;
    batchLogs = undefined;
    lastRender = -Infinity;
    finished = undefined;
    headerPrinted = false;
    openLineWidth = 0;
    jupyter = insideJupyter();
    engine = info?.engine;
    progressDisplay = undefined;
    chartDisplay = undefined;
    if (!jupyter) {
      // Which engine trains, and why when it is the slower eager one, before the first bar.
      if (verbose > 0 && engine) write(`engine: ${engine}\n`);
      return;
    }
    guard(() => {
      if (chart) ensurePlotly();
      if (verbose > 0) {
        progressDisplay = newLiveDisplay();
        progressDisplay.html(progressHtml());
      }
      if (chart) {
        chartDisplay = newLiveDisplay();
        chartDisplay.html(
          '<p style="color:#777;font:13px sans-serif">첫 에포크가 끝나면 그래프가 나타납니다. The chart appears after the first epoch.</p>',
        );
      }
    });
  }

  // ---- Jupyter ----

  function progressHtml(): string {
    const parts: string[] = ['<div class="fmnist-progress" style="font:13px/1.5 sans-serif">'];
    if (engine) parts.push(`<div style="color:#777">engine: ${escapeHtml(engine)}</div>`);
    const elapsed = (now() - trainStart) / 1000;
    if (finished) {
      const n = history.loss.length;
      if (finished.stopped) {
        const note = interruptedNote(n);
        parts.push(`<div style="color:#b00020"><b>${escapeHtml(note.ko)}</b><br>${escapeHtml(note.en)}</div>`);
      } else {
        parts.push(`<div><b>완료 Done</b>: ${n} ${n === 1 ? 'epoch' : 'epochs'} · ${formatDuration(elapsed)}</div>`);
      }
    } else if (verbose === 1) {
      const total = batchesPerEpoch;
      const fraction = total > 0 ? Math.min(1, batchesDone / total) : 0;
      const epochElapsed = (now() - epochStart) / 1000;
      const eta = batchesDone > 0 && total > 0 ? (epochElapsed / batchesDone) * (total - batchesDone) : undefined;
      const info = [
        `<b>에포크 Epoch ${epochLabel()}</b>`,
        `${batchesDone}/${total > 0 ? total : '?'} 배치 batches`,
        batchLogs ? `loss ${batchLogs.loss.toFixed(4)}` : '',
        batchLogs ? `acc ${batchLogs.acc.toFixed(4)}` : '',
        `경과 elapsed ${formatDuration(elapsed)}`,
        eta !== undefined ? `ETA ${formatDuration(eta)}` : '',
      ].filter((s) => s !== '');
      parts.push(`<div>${info.join(' · ')}</div>`);
      parts.push(
        '<div style="width:360px;height:10px;background:#e5e5e5;border-radius:3px;overflow:hidden">' +
          `<div style="width:${(fraction * 100).toFixed(1)}%;height:100%;background:#1f77b4"></div></div>`,
      );
    } else {
      parts.push(`<div><b>에포크 Epoch ${epochLabel()}</b> · 경과 elapsed ${formatDuration(elapsed)}</div>`);
    }
    if (history.loss.length > 0) parts.push(epochTableHtml());
    parts.push('</div>');
    return parts.join('\n');
  }

  function epochTableHtml(): string {
    const head = ['에포크 Epoch', 'loss', 'acc', 'val_loss', 'val_acc', '초 s']
      .map((h) => `<th style="text-align:right;padding:0 8px">${escapeHtml(h)}</th>`)
      .join('');
    const cell = (s: string): string => `<td style="text-align:right;padding:0 8px">${s}</td>`;
    const num = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '—');
    const rows = history.loss.map((_, i) =>
      [
        String(i + 1),
        num(history.loss[i]),
        num(history.acc[i]),
        num(history.val_loss[i]),
        num(history.val_acc[i]),
        history.seconds[i].toFixed(1),
      ]
        .map(cell)
        .join(''),
    );
    return `<table class="fmnist-epochs"><thead><tr>${head}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
  }

  function renderJupyter(withChart: boolean): void {
    guard(() => {
      progressDisplay?.html(progressHtml());
      if (withChart && chartDisplay && history.loss.length > 0) chartDisplay.figure(historyFigure(history));
    });
  }

  // ---- Terminal ----

  function printHeader(): void {
    if (headerPrinted) return;
    headerPrinted = true;
    write(`Epoch ${epochLabel()}\n`);
  }

  /** Rewrites the open bar line, padding with spaces over what a longer line left behind. */
  function writeBarLine(line: string, end: boolean): void {
    const fill = ' '.repeat(Math.max(0, openLineWidth - line.length));
    write(`\r${line}${fill}${end ? '\n' : ''}`);
    openLineWidth = end ? 0 : line.length;
  }

  function barLine(): string {
    const total = batchesPerEpoch;
    const width = String(total > 0 ? total : batchesDone).length;
    const counter = `${String(batchesDone).padStart(width)}/${total > 0 ? total : '?'}`;
    const epochElapsed = (now() - epochStart) / 1000;
    const eta = total > 0 && batchesDone > 0 ? (epochElapsed / batchesDone) * (total - batchesDone) : undefined;
    return [
      `${counter} ${progressBar(batchesDone, total)}`.trimEnd(),
      eta !== undefined ? `ETA: ${formatDuration(eta)}` : '',
      batchLogs ? metrics(batchLogs) : '',
    ]
      .filter((s) => s !== '')
      .join(' - ');
  }

  function epochSummary(logs: EpochLogs): string {
    const steps = batchesPerEpoch > 0 ? batchesPerEpoch : batchesDone;
    const counter = `${steps}/${steps}`;
    const time = formatDuration(logs.seconds);
    const perStep = formatPerStep(logs.seconds, steps);
    if (verbose === 2) {
      return [counter, time, metrics(logs), perStep].filter((s) => s !== '').join(' - ');
    }
    return [`${counter} ${progressBar(steps, steps)}`, `${time} ${perStep}`.trim(), metrics(logs)].join(' - ');
  }

  return {
    onTrainBegin(info) {
      begin(info);
    },

    onBatchEnd(batch, logs) {
      if (!begun) begin();
      batchesDone = batch + 1;
      if (batchesPerEpoch > 0) batchesDone = Math.min(batchesDone, batchesPerEpoch);
      batchLogs = { loss: logs.loss, acc: logs.acc };
      if (verbose !== 1) return;
      const t = now();
      if (t - lastRender < batchEvery) return;
      lastRender = t;
      if (jupyter) {
        renderJupyter(false);
      } else if (isTTY()) {
        printHeader();
        writeBarLine(barLine(), false);
      }
    },

    onEpochEnd(_epoch, logs, runHistory) {
      if (!begun) begin();
      if (verbose > 0 && !jupyter) {
        printHeader();
        const summary = epochSummary(logs);
        if (verbose === 1 && isTTY()) writeBarLine(summary, true);
        else write(`${summary}\n`);
      }
      history = copyHistory(runHistory);
      epochStart = now();
      batchesDone = 0;
      batchLogs = undefined;
      headerPrinted = false;
      // The next batch draws at once, so the new epoch's bar appears without waiting.
      lastRender = -Infinity;
      if (jupyter) renderJupyter(true);
    },

    onTrainEnd(runHistory, stopped) {
      if (!begun) begin();
      history = copyHistory(runHistory);
      finished = { stopped };
      if (jupyter) {
        renderJupyter(true);
        if (stopped && !progressDisplay) {
          const note = interruptedNote(history.loss.length);
          guard(() => showHtml(`<p style="color:#b00020"><b>${escapeHtml(note.ko)}</b><br>${escapeHtml(note.en)}</p>`));
        }
        return;
      }
      if (openLineWidth > 0) {
        write('\n');
        openLineWidth = 0;
      }
      if (stopped) {
        const note = interruptedNote(history.loss.length);
        write(`${note.ko}\n${note.en}\n`);
      }
    },

    history() {
      return copyHistory(history);
    },
  };
}
