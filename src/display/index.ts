/**
 * # display
 *
 * Everything a notebook shows: plotly figures as plain data (`figures.ts`), their display in
 * Jupyter, as files or through nodeplotlib, plus tables and text (`display.ts`), the live training
 * progress (`progress.ts`), the notebooks' composite views such as the setup banner and the
 * model summary (`views.ts`), and the live classifier panel of notebook 01 (`panel.ts`).
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
export { classifierPanel, classifierPanelHtml, DEFAULT_PANEL_OPTIONS, type ClassifierPanelOptions } from './panel';
