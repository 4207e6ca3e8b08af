export { esc, fmt } from "./format.js";
export { PALETTE, lineChart, type ChartOptions, type Series } from "./svg.js";
export {
  TRAINING_CHARTS,
  seriesFor,
  trainingCharts,
  type MetricsRecord,
  type TrainingChartSpec,
} from "./training.js";
export {
  passAtKPoints,
  renderReport,
  renderTable,
  resultsTable,
  type EvalResultData,
  type ReportInput,
  type Table,
} from "./report.js";
