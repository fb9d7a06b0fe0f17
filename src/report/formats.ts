// What `hookpoint report` can write, and the file each format goes to by default.
export const REPORT_FORMATS = ["html", "perfetto", "otlp"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const DEFAULT_REPORT_FILES: Record<ReportFormat, string> = {
  html: "report.html",
  perfetto: "report.perfetto.json",
  otlp: "report.otlp.jsonl",
};

export interface ReportOptions {
  output?: string;
  format: ReportFormat;
}
