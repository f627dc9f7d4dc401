import { DateTime } from 'luxon';
import { UserDirectory } from '../directory/user-directory';
import { Answer } from '../query/ask';
import { AnswerChartCardData, AnswerCountCardData, AnswerListCardData } from './card-data';

/** What an answer becomes in chat: which template, with which data. */
export type AnswerCard =
  | { name: 'answer-list'; data: AnswerListCardData }
  | { name: 'answer-chart'; data: AnswerChartCardData }
  | { name: 'answer-count'; data: AnswerCountCardData };

export interface AnswerCardContext {
  /** The reader's zone: times in the card are local to them. */
  timeZone: string;
  /** The "now" the question was read at: a "Show more" page reads it the same way. */
  now: Date;
  /** How many events the list skipped (paging). */
  offset: number;
  directory?: UserDirectory;
}

const MAX_MESSAGE = 300;

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Turns an answer into card data: times in the reader's zone, levels coloured, long text clipped. */
export function answerCard(answer: Answer, ctx: AnswerCardContext): AnswerCard {
  const shape = answer.query.shape;
  if (shape.kind === 'count') {
    return { name: 'answer-count', data: { question: answer.question, interpretation: answer.interpretation, total: answer.total, notes: answer.notes } };
  }
  if (shape.kind === 'list') {
    const first = ctx.offset + 1;
    const last = ctx.offset + answer.hits.length;
    const summary =
      answer.total === 0
        ? 'No events match.'
        : answer.hits.length < answer.total
          ? `${plural(answer.total, 'event')}, ${first}–${last} shown (newest first)`
          : plural(answer.total, 'event');
    const data: AnswerListCardData = {
      question: answer.question,
      interpretation: answer.interpretation,
      summary,
      timeZone: ctx.timeZone,
      rows: answer.hits.map((h) => {
        const login = h['user.id'] ? ctx.directory?.byUserId(h['user.id'])?.login : undefined;
        return {
          time: DateTime.fromISO(h['@timestamp'], { zone: ctx.timeZone }).toFormat('ccc d LLL HH:mm:ss'),
          level: h['log.level'],
          levelColor: h['log.level'] === 'error' || h['log.level'] === 'fatal' ? 'attention' : h['log.level'] === 'warn' ? 'warning' : 'default',
          user: h['user.id'] ? (login ? `${h['user.id']} (${login})` : h['user.id']) : h['user.name'] ?? '',
          message: clip(h['http.response.status_code'] ? `${h.message} (${h['http.response.status_code']}${h['document.id'] ? `, document ${h['document.id']}` : ''})` : h.message, MAX_MESSAGE),
          source: h.source,
        };
      }),
      notes: answer.notes,
    };
    if (last < answer.total) {
      data.more = { verb: 'answer.more', question: answer.question, offset: last, now: ctx.now.toISOString(), timeZone: ctx.timeZone };
    }
    return { name: 'answer-list', data };
  }
  const buckets = answer.buckets ?? [];
  const histogram = shape.kind === 'histogram';
  const days = new Set(buckets.map((b) => b.key.slice(0, 10)));
  // Hours of one day need no date; hours across days need the weekday to stay apart.
  const hourly = shape.kind === 'histogram' && shape.interval === 'hour';
  // Short labels fit under narrow bars: "14" for an hour of one day, "Fri 14" across days.
  const barFormat = hourly ? (days.size > 1 ? 'ccc HH' : 'HH') : 'ccc d';
  const rowFormat = hourly ? (days.size > 1 ? 'ccc d LLL HH:mm' : 'HH:mm') : 'ccc d LLL';
  const at = (key: string, format: string) => DateTime.fromISO(key, { zone: ctx.timeZone }).toFormat(format);
  const label = (key: string) => (histogram ? at(key, rowFormat) : clip(key, 60));
  const barLabel = (key: string) => (histogram ? at(key, barFormat) : clip(key, 24));
  const long = !histogram && (buckets.length > 8 || buckets.some((b) => b.key.length > 12));
  const what = histogram ? (shape.interval === 'hour' ? 'Hour' : 'Day') : (answer.interpretation.match(/ by ([\w ]+?),/)?.[1] ?? 'Value');
  return {
    name: 'answer-chart',
    data: {
      question: answer.question,
      interpretation: answer.interpretation,
      summary: plural(answer.total, 'event'),
      chart: long ? 'Chart.HorizontalBar' : 'Chart.VerticalBar',
      chartTitle: answer.interpretation,
      xAxisTitle: what.charAt(0).toUpperCase() + what.slice(1),
      yAxisTitle: 'Events',
      bars: buckets.map((b) => ({ x: barLabel(b.key), y: b.count })),
      // The table repeats the chart's numbers for screen readers; empty hours add nothing there.
      rows: buckets.filter((b) => !histogram || b.count > 0).map((b) => ({ key: label(b.key), count: b.count })),
      other: answer.otherCount ? `and ${plural(answer.otherCount, 'event')} with other values` : '',
      notes: answer.notes,
    },
  };
}
