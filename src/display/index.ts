/**
 * # display
 *
 * Everything a notebook shows: plotly figures as plain data (`figures.ts`), their display in
 * Jupyter, as files or through nodeplotlib, plus tables and text (`display.ts`), the live training
 * progress (`progress.ts`), and the notebooks' composite views such as the setup banner and the
 * model summary (`views.ts`).
 */
export {
  show, showHtml, showMarkdown, showTable, showText, type ShowOptions, type TableRow,
} from './display';
export {
  compareHistoriesFigure, confusionMatrixFigure, historyFigure, imageFigure, imageGridFigure, probabilityBarFigure,
  type Figure, type NamedHistory,
} from './figures';
export { trainingMonitor, type TrainingMonitor, type TrainingMonitorOptions } from './progress';
export { notebookSetup, showHyperparameters, showModelSummary } from './views';
