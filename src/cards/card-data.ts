/**
 * The data each card template in cards/ is rendered with: one interface per template. Values are
 * already formatted for people (times in the reader's zone, secrets masked); templates only lay
 * them out.
 */

/** cards/answer-list.json: events that answer a question. */
export interface AnswerListCardData {
  question: string;
  interpretation: string;
  /** "2 events", "41 events, 1–10 shown". */
  summary: string;
  timeZone: string;
  rows: {
    /** "Fri 12 Jun 12:57:15" in the reader's zone. */
    time: string;
    level: string;
    /** Adaptive Card text color for the level: attention (error, fatal), warning, default. */
    levelColor: 'attention' | 'warning' | 'default';
    user: string;
    message: string;
    /** Provenance, e.g. APP01/api/2020-06-12.log:866. */
    source: string;
  }[];
  notes: string[];
  /** Present when there are more events: the Action.Execute data of the "Show more" button. */
  more?: { verb: 'answer.more'; question: string; offset: number; now: string; timeZone: string };
}

/** cards/answer-chart.json: counts per key or per hour/day, drawn as a chart with the numbers beside it. */
export interface AnswerChartCardData {
  question: string;
  interpretation: string;
  /** "41 events". */
  summary: string;
  /** Chart.VerticalBar for time buckets and few keys; Chart.HorizontalBar for many or long keys. */
  chart: 'Chart.VerticalBar' | 'Chart.HorizontalBar';
  chartTitle: string;
  xAxisTitle: string;
  yAxisTitle: string;
  bars: { x: string; y: number }[];
  /** The same numbers as a table (screen readers, clients without charts). */
  rows: { key: string; count: number }[];
  /** "and 12 events with other values", empty when none. */
  other: string;
  notes: string[];
}

/** cards/answer-count.json: how many. */
export interface AnswerCountCardData {
  question: string;
  interpretation: string;
  total: number;
  notes: string[];
}

/** cards/not-understood.json: what the parser could not read, with examples to try. */
export interface NotUnderstoodCardData {
  question: string;
  problems: string[];
  examples: string[];
}

/** cards/help.json. */
export interface HelpCardData {
  name: string;
  role: string;
  /** Groups of example questions. */
  sections: { title: string; examples: string[] }[];
  commands: { usage: string; description: string }[];
}

/** cards/error.json: a short apology with the correlation id support can search the logs for. */
export interface ErrorCardData {
  correlationId: string;
}

/** cards/notice.json: a short message (refusals, confirmations). */
export interface NoticeCardData {
  title: string;
  text: string;
  /** attention for refusals, good for confirmations, default otherwise. */
  style: 'default' | 'attention' | 'good' | 'warning';
}

/** cards/welcome.json: sent when the app is installed or a person first writes. */
export interface WelcomeCardData {
  name: string;
  role: string;
  /** What this role can do, one sentence. */
  canDo: string;
  examples: string[];
}
