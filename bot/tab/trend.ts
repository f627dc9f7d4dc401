import { Rule } from '../../src/alerts/rule';
import { Engine } from '../../src/engine';
import { bucketKey, bucketStart } from '../../src/logs/histogram';
import { Bucket } from '../../src/logs/log-store';
import { Filter, LogQuery } from '../../src/query/log-query';

/**
 * The trend view's numbers: events per hour over the last hours, one series per alert rule (the
 * events its filter matches) or per dataset (errors and fatals of each log). Every number is the
 * log store's own histogram answer for the same LogQuery a person could ask in chat.
 */
export type TrendBy = 'rule' | 'dataset';

/** One series of hourly counts. */
export interface TrendSeries {
  /** The rule id or the dataset name. */
  key: string;
  label: string;
  /** A rule that is switched off still has a trend; the chart says so. */
  disabled?: boolean;
  total: number;
  /** One per hour, oldest first, empty hours included: `key` is the hour's start in the trend's zone (ISO 8601 with offset). */
  buckets: Bucket[];
}

/** What the trend view draws (GET /tab/api/trend). */
export interface Trend {
  by: TrendBy;
  hours: number;
  timeZone: string;
  /** Start of the first hour (inclusive) and "now" (exclusive), ISO 8601 UTC. */
  from: string;
  to: string;
  /** The release to mark on the chart, when configured (ISO 8601). */
  releaseAt?: string;
  series: TrendSeries[];
}

/** Which series, how far back, ending when. */
export interface TrendOptions {
  by: TrendBy;
  hours: number;
  /** Epoch ms: the trend ends here (the engine's clock). */
  now: number;
  timeZone: string;
  releaseAt?: string;
}

/** Errors and fatals: what the chat calls "errors". */
const ERRORS: Filter = { op: 'in', field: 'log.level', values: ['error', 'fatal'] };

/**
 * Hourly counts for the `hours` hours ending with the current one (the current hour is partial: it
 * ends now). Series run one after the other: a store under load sees one query at a time.
 */
export async function errorTrend(engine: Engine, rules: Rule[], options: TrendOptions): Promise<Trend> {
  const { hours, now, timeZone } = options;
  // Whole hours in the zone: the first bucket starts at a local full hour, as the chart labels them.
  const from = bucketStart(now, 'hour', timeZone) - (hours - 1) * 3600_000;
  const time = { gte: new Date(from).toISOString(), lt: new Date(now).toISOString() };
  const sources: { key: string; label: string; disabled?: boolean; filters: Filter[] }[] =
    options.by === 'rule'
      ? rules.map((r) => ({ key: r.id, label: r.id, filters: r.filters, ...(r.enabled ? {} : { disabled: true }) }))
      : [...(await engine.asker.vocabularyNow()).datasets].sort().map((d) => ({ key: d, label: `${d} errors`, filters: [ERRORS, { op: 'eq', field: 'event.dataset', value: d }] }));
  const series: TrendSeries[] = [];
  for (const s of sources) {
    const query: LogQuery = { filters: s.filters, time, shape: { kind: 'histogram', interval: 'hour', timeZone } };
    const result = await engine.logStore.search(query);
    // A store leaves out nothing between gte and lt, but says nothing about an empty range: fill it.
    const counts = new Map((result.buckets ?? []).map((b) => [Date.parse(b.key), b.count]));
    const buckets: Bucket[] = [];
    for (let t = from; t < now; t += 3600_000) buckets.push({ key: bucketKey(t, timeZone), count: counts.get(t) ?? 0 });
    series.push({ key: s.key, label: s.label, ...(s.disabled ? { disabled: true } : {}), total: result.total, buckets });
  }
  return {
    by: options.by,
    hours,
    timeZone,
    from: time.gte,
    to: time.lt,
    ...(options.releaseAt ? { releaseAt: options.releaseAt } : {}),
    series,
  };
}
