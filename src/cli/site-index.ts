/**
 * The teaching site's index page (`npm run site`, site.ts): one section per notebook from its run's
 * record (export-notebook.ts). Self-contained: inline style, system fonts, no script, links only to
 * files in the same folder.
 */
import path from 'node:path';
import { describeHyperparameters, type Hyperparameters } from '../core/config';
import { escapeHtml, tableToHtml } from '../display/display';
import { recordPathFor, type ExportRecord } from './export-notebook';

/** Inline Markdown of the notebooks' intros: code, bold, italic; everything else escaped. */
export function inlineMarkdown(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\*([^*]+)\*/g, '<em>$1</em>');
}

function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans KR","Apple SD Gothic Neo","Malgun Gothic",sans-serif;color:#222;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:26px;margin-bottom:4px}
article{border-top:1px solid #ddd;padding:12px 0 20px}
h2{font-size:20px;margin:8px 0}
.en{color:#555}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dt{color:#666}
dd{margin:0}
table{border-collapse:collapse;margin:6px 0}
th,td{padding:2px 10px;border-bottom:1px solid #eee}
code{background:#f4f4f4;padding:0 3px}
details{margin:6px 0}
.note{color:#666;font-size:13px}
`;

/** One notebook's part of the index. */
function notebookSection(r: ExportRecord): string {
  const overridden = r.hyperparameters?.overridden ?? [];
  const hp = r.hyperparameters
    ? `<p>명령줄에서 바꾼 값 / set on the command line: ${
        overridden.length
          ? overridden.map((n) => `<code>${escapeHtml(n)} = ${escapeHtml(JSON.stringify(r.hyperparameters?.values[n as keyof Hyperparameters]))}</code>`).join(', ')
          : '없음 / none'
      }</p>` +
      '<details data-fact="hyperparameters"><summary>하이퍼파라미터 전체 / all hyperparameters</summary>' +
      tableToHtml(describeHyperparameters({ values: r.hyperparameters.values as Hyperparameters, overridden: overridden as Array<keyof Hyperparameters> })) +
      '</details>'
    : '<p>이 노트북에는 하이퍼파라미터가 없습니다 / this notebook has no hyperparameters.</p>';
  const results = r.results.length
    ? '<table data-fact="results"><thead><tr><th style="text-align:left">model</th><th>params</th><th>test images</th><th>test loss</th><th>test accuracy</th></tr></thead><tbody>' +
      r.results
        .map(
          (x) =>
            `<tr data-model="${escapeHtml(x.model)}"><td>${escapeHtml(x.model)}</td><td style="text-align:right">${x.params.toLocaleString('en-US')}</td>` +
            `<td style="text-align:right">${x.testImages}</td><td style="text-align:right" data-fact="loss">${x.loss.toFixed(4)}</td>` +
            `<td style="text-align:right" data-fact="accuracy">${x.accuracy.toFixed(4)}</td></tr>`,
        )
        .join('') +
      '</tbody></table>'
    : '<p>이 노트북은 모델을 평가하지 않습니다 / this notebook evaluates no model.</p>';
  const m = r.machine;
  return `<article data-notebook="${escapeHtml(r.notebook)}">
<h2><a href="${encodeURIComponent(r.html)}">${escapeHtml(r.title)}</a></h2>
${r.description.ko ? `<p>${inlineMarkdown(r.description.ko)}</p>\n` : ''}${r.description.en ? `<p class="en">${inlineMarkdown(r.description.en)}</p>\n` : ''}<dl>
<dt>실행 / ran</dt><dd data-fact="when">${utc(r.started)} – ${utc(r.finished)} (${minutes(r.wallSeconds)}, kernel start included)</dd>
<dt>머신 / machine</dt><dd data-fact="machine">${escapeHtml(m.hostname)} · ${escapeHtml(m.cpu)} · ${m.cores} cores · ${escapeHtml(m.platform)} · Node.js ${escapeHtml(m.node)}</dd>
<dt>백엔드 / backend</dt><dd data-fact="backend">${escapeHtml(r.backend ?? '—')}</dd>
</dl>
<h3>하이퍼파라미터 / Hyperparameters</h3>
${hp}
<h3>결과 / Results</h3>
${results}
<p class="note"><a href="${encodeURIComponent(path.basename(recordPathFor(r.html)))}">이 실행의 기록 / this run's record (JSON)</a></p>
</article>`;
}

/** The index page: one section per notebook, in order. Self-contained: inline style, system fonts, no script. */
export function indexHtml(records: ExportRecord[], overrides: Partial<Hyperparameters>, generated = new Date()): string {
  const shown = Object.keys(overrides).length
    ? Object.entries(overrides).map(([k, v]) => `<code>${escapeHtml(k)} = ${escapeHtml(JSON.stringify(v))}</code>`).join(', ')
    : '없음, 노트북의 값 그대로 / none: the notebooks\' own values';
  return `<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fashion-MNIST ConvNet · 노트북 / notebooks</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Fashion-MNIST를 ConvNet으로 / Fashion-MNIST with a ConvNet</h1>
<p>TypeScript와 TensorFlow.js로 옮긴 한국어 Keras 튜토리얼의 노트북들입니다. 각 노트북은 아래 머신에서 처음부터 끝까지 실행되었고, 그 결과를 그대로 담고 있습니다. 이 폴더만으로 인터넷 없이 열립니다.</p>
<p class="en"><em>The notebooks of the Korean Keras tutorial ported to TypeScript and TensorFlow.js, each run from top to bottom on the machine named below, with its real outputs. This folder opens as it is, with no network.</em></p>
<p class="note">만든 시각 / generated ${utc(generated.toISOString())} by <code>npm run site</code>; 모든 노트북에 준 값 / overrides given to every notebook: ${shown}</p>
${records.map(notebookSection).join('\n')}
</body>
</html>
`;
}
