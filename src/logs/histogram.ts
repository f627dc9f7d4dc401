import { DateTime, IANAZone } from 'luxon';

/**
 * Calendar buckets in a time zone, as Elasticsearch's `date_histogram` with `calendar_interval`
 * and `time_zone` makes them: an hour bucket starts at a local full hour (the repeated hour when
 * clocks go back is two buckets), a day bucket at local midnight.
 */
export type Interval = 'hour' | 'day';

/** Bucket start (epoch ms) for an instant. */
export function bucketStart(epochMs: number, interval: Interval, zone: string): number {
  return DateTime.fromMillis(epochMs, { zone }).startOf(interval).toMillis();
}

/** Every bucket start from the bucket of `first` to the bucket of `last`, inclusive. */
export function bucketStarts(first: number, last: number, interval: Interval, zone: string, max: number): number[] {
  const out: number[] = [];
  let t = DateTime.fromMillis(bucketStart(first, interval, zone), { zone });
  const end = bucketStart(last, interval, zone);
  while (t.toMillis() <= end) {
    out.push(t.toMillis());
    if (out.length > max) throw new RangeError(`more than ${max} buckets`);
    // Hours advance by elapsed time (so both copies of a repeated hour appear); days by the calendar.
    t = interval === 'hour' ? t.plus({ hours: 1 }) : t.plus({ days: 1 }).startOf('day');
  }
  return out;
}

/** The bucket key as shown to people and in `--json`: ISO 8601 with the zone's offset. */
export function bucketKey(epochMs: number, zone: string): string {
  return DateTime.fromMillis(epochMs, { zone }).toISO({ suppressMilliseconds: false })!;
}

/** UTC offset changes of `zone` within [from, to]: [instant, offset minutes from then on]. */
export function offsetSegments(from: number, to: number, zone: string): { start: number; offset: number }[] {
  const z = IANAZone.create(zone);
  const segments = [{ start: from, offset: z.offset(from) }];
  const step = 6 * 3600_000;
  let prev = from;
  let prevOffset = z.offset(from);
  for (let t = from + step; ; t += step) {
    const at = Math.min(t, to);
    const offset = z.offset(at);
    if (offset !== prevOffset) {
      // Narrow the change down to the minute.
      let lo = prev, hi = at;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000 || lo + 60_000;
        if (z.offset(mid) === prevOffset) lo = mid;
        else hi = mid;
      }
      segments.push({ start: hi, offset });
      prevOffset = offset;
    }
    prev = at;
    if (at >= to) break;
  }
  return segments;
}
