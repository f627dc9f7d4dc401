import { DateTime } from 'luxon';
import { Token } from './question-tokens';

/**
 * Time phrases in a question, in the asker's time zone: what they name (a day, a clock time or
 * range, a relative range), resolved later against "now". A range never extends past now.
 */
export type TimePart =
  | { kind: 'range'; from: DateTime; to: DateTime; text: string }
  | { kind: 'day'; day: DateTime; text: string }
  | { kind: 'clock'; from: ClockTime; to?: ClockTime; around?: boolean; text: string };

export interface ClockTime {
  hour: number;
  minute: number;
  second: number;
}

export const WEEKDAYS: Record<string, number> = {
  monday: 1, mon: 1, tuesday: 2, tue: 2, tues: 2, wednesday: 3, wed: 3, thursday: 4, thu: 4, thur: 4, thurs: 4,
  friday: 5, fri: 5, saturday: 6, sat: 6, sunday: 7, sun: 7,
};

export const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sep: 9, sept: 9, october: 10, oct: 10, november: 11, nov: 11,
  december: 12, dec: 12,
};

const UNITS: Record<string, 'minutes' | 'hours' | 'days' | 'weeks'> = {
  minute: 'minutes', minutes: 'minutes', min: 'minutes', mins: 'minutes', m: 'minutes',
  hour: 'hours', hours: 'hours', hr: 'hours', hrs: 'hours', h: 'hours',
  day: 'days', days: 'days', d: 'days',
  week: 'weeks', weeks: 'weeks', w: 'weeks',
};

export const AROUND_MINUTES = 5;

export class TimeError extends Error {}

export function parseClock(text: string): ClockTime | undefined {
  const t = text.toLowerCase();
  if (t === 'noon') return { hour: 12, minute: 0, second: 0 };
  if (t === 'midnight') return { hour: 0, minute: 0, second: 0 };
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(am|pm)?$/.exec(t);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = m[2] ? Number(m[2]) : 0;
  const second = m[3] ? Number(m[3]) : 0;
  if (m[4]) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (m[4] === 'pm' ? 12 : 0);
  } else if (m[2] === undefined) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { hour, minute, second };
}

/** The most recent occurrence of month/day not after today (a question about the past). */
function mostRecent(now: DateTime, month: number, day: number, year?: number): DateTime | undefined {
  const at = (y: number) => DateTime.fromObject({ year: y, month, day }, { zone: now.zone });
  if (year !== undefined) {
    const d = at(year);
    return d.isValid ? d : undefined;
  }
  let d = at(now.year);
  if (!d.isValid) return undefined;
  if (d > now.startOf('day')) d = at(now.year - 1);
  return d.isValid ? d : undefined;
}

function weekdayOnOrBefore(now: DateTime, weekday: number): DateTime {
  const today = now.startOf('day');
  return today.minus({ days: (today.weekday - weekday + 7) % 7 });
}

/** A date at tokens[i]: `2020-06-10`, `June 10`, `June 10th, 2020`, `10 June`, `10th of June 2020`. */
export function readDate(tokens: Token[], i: number, now: DateTime): { day: DateTime; used: number } | undefined {
  const t = tokens[i];
  if (!t) return undefined;
  if (t.kind === 'date') {
    const d = DateTime.fromISO(t.text, { zone: now.zone });
    if (!d.isValid) throw new TimeError(`'${t.text}' is not a date`);
    return { day: d.startOf('day'), used: 1 };
  }
  const dayNumber = (x: Token | undefined) => {
    const m = x && /^(\d{1,2})(?:st|nd|rd|th)?$/.exec(x.lower);
    return m ? Number(m[1]) : undefined;
  };
  const yearAt = (j: number) => (tokens[j]?.kind === 'number' && /^\d{4}$/.test(tokens[j]!.text) ? Number(tokens[j]!.text) : undefined);
  const month = MONTHS[t.lower];
  if (month !== undefined) {
    const day = dayNumber(tokens[i + 1]);
    if (day === undefined) return undefined;
    let used = 2;
    let j = i + 2;
    if (tokens[j]?.lower === ',') j++;
    const year = yearAt(j);
    if (year !== undefined) used = j - i + 1;
    const d = mostRecent(now, month, day, year);
    if (!d) throw new TimeError(`${tokens.slice(i, i + used).map((x) => x.text).join(' ')} is not a date`);
    return { day: d, used };
  }
  const day = dayNumber(t);
  if (day !== undefined) {
    let j = i + 1;
    if (tokens[j]?.lower === 'of') j++;
    const m = tokens[j] && MONTHS[tokens[j]!.lower];
    if (m === undefined) return undefined;
    const year = yearAt(j + 1);
    const used = j - i + 1 + (year !== undefined ? 1 : 0);
    const d = mostRecent(now, m, day, year);
    if (!d) throw new TimeError(`${tokens.slice(i, i + used).map((x) => x.text).join(' ')} is not a date`);
    return { day: d, used };
  }
  return undefined;
}

/** A day at tokens[i]: a date, a weekday (the latest one, today included), today, yesterday. */
export function readDay(tokens: Token[], i: number, now: DateTime): { day: DateTime; used: number } | undefined {
  const t = tokens[i];
  if (!t) return undefined;
  if (t.lower === 'today') return { day: now.startOf('day'), used: 1 };
  if (t.lower === 'yesterday') return { day: now.startOf('day').minus({ days: 1 }), used: 1 };
  if (WEEKDAYS[t.lower] !== undefined) return { day: weekdayOnOrBefore(now, WEEKDAYS[t.lower]!), used: 1 };
  return readDate(tokens, i, now);
}

function phrase(tokens: Token[], i: number, used: number): string {
  return tokens.slice(i, i + used).map((t) => t.text).join(' ');
}

/**
 * Reads a time phrase starting at tokens[i]. Returns what it names and how many tokens it used,
 * or undefined when there is no time phrase there.
 */
export function readTime(tokens: Token[], i: number, now: DateTime): { part: TimePart; used: number } | undefined {
  const w = (k: number) => tokens[i + k]?.lower;
  const startOfWeek = now.startOf('week');
  const range = (from: DateTime, to: DateTime, used: number) => ({ part: { kind: 'range' as const, from, to, text: phrase(tokens, i, used) }, used });

  switch (w(0)) {
    case 'today':
    case 'yesterday': {
      const d = readDay(tokens, i, now)!;
      return { part: { kind: 'day', day: d.day, text: phrase(tokens, i, 1) }, used: 1 };
    }
    case 'this':
      if (w(1) === 'week') return range(startOfWeek, now, 2);
      if (w(1) === 'month') return range(now.startOf('month'), now, 2);
      if (w(1) === 'morning') return range(now.startOf('day'), now.startOf('day').set({ hour: 12 }), 2);
      if (w(1) === 'afternoon') return range(now.startOf('day').set({ hour: 12 }), now.startOf('day').set({ hour: 18 }), 2);
      return undefined;
    case 'last':
    case 'past':
    case 'previous':
    case 'recent': {
      if (w(1) === 'week' && w(0) !== 'past') return range(startOfWeek.minus({ weeks: 1 }), startOfWeek, 2);
      if (w(1) === 'month' && w(0) !== 'past') return range(now.startOf('month').minus({ months: 1 }), now.startOf('month'), 2);
      if (WEEKDAYS[w(1) ?? ''] !== undefined) {
        const today = now.startOf('day');
        let d = weekdayOnOrBefore(now, WEEKDAYS[w(1)!]!);
        if (d.equals(today)) d = d.minus({ weeks: 1 });
        return { part: { kind: 'day', day: d, text: phrase(tokens, i, 2) }, used: 2 };
      }
      // last N units, last unit, last 24h
      let j = 1;
      let n = 1;
      if (tokens[i + j]?.kind === 'number') {
        n = Number(tokens[i + j]!.text);
        j++;
      } else {
        const packed = /^(\d+)(m|min|h|hr|d|w)$/.exec(w(1) ?? '');
        if (packed) return relative(Number(packed[1]), UNITS[packed[2]!]!, 2);
      }
      const unit = UNITS[w(j) ?? ''];
      if (!unit) return undefined;
      return relative(n, unit, j + 1);
    }
    case 'since': {
      const day = readDay(tokens, i + 1, now);
      if (day) {
        const from = tokens[i + 1]?.lower === 'today' ? now.startOf('day') : day.day;
        return range(from, now, 1 + day.used);
      }
      const clock = tokens[i + 1] && parseClock(tokens[i + 1]!.text);
      if (clock) {
        let from = now.startOf('day').set(clock);
        if (from > now) from = from.minus({ days: 1 });
        return range(from, now, 2);
      }
      throw new TimeError(`after 'since' I expected a day or a time (since Wednesday, since June 10, since 9:00), not '${tokens[i + 1]?.text ?? 'nothing'}'`);
    }
    case 'on': {
      const day = readDay(tokens, i + 1, now);
      return day ? { part: { kind: 'day', day: day.day, text: phrase(tokens, i, 1 + day.used) }, used: 1 + day.used } : undefined;
    }
    case 'at':
    case 'around': {
      const clock = tokens[i + 1] && parseClock(tokens[i + 1]!.text);
      if (!clock) return undefined;
      return { part: { kind: 'clock', from: clock, around: true, text: phrase(tokens, i, 2) }, used: 2 };
    }
    case 'between':
    case 'from': {
      const a = tokens[i + 1] && parseClock(tokens[i + 1]!.text);
      const joiner = w(2);
      const b = tokens[i + 3] && parseClock(tokens[i + 3]!.text);
      if (a && b && (joiner === 'and' || joiner === 'to' || joiner === 'until' || joiner === 'till' || joiner === '-')) {
        return { part: { kind: 'clock', from: a, to: b, text: phrase(tokens, i, 4) }, used: 4 };
      }
      if (w(0) === 'between' && a) throw new TimeError(`'between' needs two times, as in between 10:00 and 11:30`);
      return undefined;
    }
    case 'before':
    case 'after':
    case 'until': {
      const clock = tokens[i + 1] && parseClock(tokens[i + 1]!.text);
      if (!clock) return undefined;
      const edge = now.startOf('day').set(clock);
      return w(0) === 'after' ? range(edge, now, 2) : range(now.startOf('day'), edge, 2);
    }
    default: {
      if (tokens[i]?.kind === 'time') {
        const clock = parseClock(tokens[i]!.text);
        if (clock) return { part: { kind: 'clock', from: clock, around: true, text: phrase(tokens, i, 1) }, used: 1 };
      }
      const day = readDay(tokens, i, now);
      if (day) return { part: { kind: 'day', day: day.day, text: phrase(tokens, i, day.used) }, used: day.used };
      return undefined;
    }
  }

  function relative(n: number, unit: 'minutes' | 'hours' | 'days' | 'weeks', used: number) {
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new TimeError(`'${phrase(tokens, i, used)}' is not a time span I can use`);
    return range(now.minus({ [unit]: n }), now, used);
  }
}

/**
 * Combines the time parts of a question into one UTC range [gte, lt), never past now. A day and a
 * clock time combine ("yesterday between 10:00 and 11:00"); two ranges do not.
 */
export function resolveTime(parts: TimePart[], now: DateTime): { from: DateTime; to: DateTime } | undefined {
  if (parts.length === 0) return undefined;
  const ranges = parts.filter((p) => p.kind === 'range');
  const days = parts.filter((p): p is Extract<TimePart, { kind: 'day' }> => p.kind === 'day');
  const clocks = parts.filter((p): p is Extract<TimePart, { kind: 'clock' }> => p.kind === 'clock');
  if (ranges.length > 1 || days.length > 1 || clocks.length > 1 || (ranges.length && (days.length || clocks.length))) {
    throw new TimeError(`I can use one time range, not ${parts.map((p) => `'${p.text}'`).join(' and ')}`);
  }
  let from: DateTime;
  let to: DateTime;
  if (ranges.length) {
    const r = ranges[0] as Extract<TimePart, { kind: 'range' }>;
    ({ from, to } = r);
  } else {
    const day = days[0]?.day ?? now.startOf('day');
    const clock = clocks[0];
    if (!clock) {
      from = day;
      to = day.plus({ days: 1 });
    } else {
      const at = day.set(clock.from);
      if (clock.to) {
        from = at;
        to = day.set(clock.to);
        if (to <= from) throw new TimeError(`${clock.text}: the end is not after the start`);
      } else {
        from = at.minus({ minutes: AROUND_MINUTES });
        to = at.plus({ minutes: AROUND_MINUTES });
      }
    }
  }
  if (from >= now) {
    throw new TimeError(`${parts.map((p) => p.text).join(' ')} has not happened yet (it is ${now.toFormat('ccc d LLL yyyy HH:mm')} ${now.zoneName})`);
  }
  if (to > now) to = now;
  return { from, to };
}
