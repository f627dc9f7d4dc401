import { DateTime, IANAZone } from 'luxon';

/**
 * Reads the timestamps nlog writes: `2020-06-08 13:27:46.9412` (longdate, server local time, no
 * offset) and ISO 8601 with an offset (`2020-06-12T12:57:15.000+02:00`). Fractions beyond
 * milliseconds are truncated, as the truth data and Elasticsearch `date` both keep milliseconds.
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

export const TIMESTAMP_PATTERN_SOURCE =
  String.raw`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?`;

export class TimestampError extends Error {}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

const validZones = new Map<string, boolean>();

/** True for an IANA zone name (memoised: the check goes through Intl and is slow). */
export function isValidZone(zone: string): boolean {
  let valid = validZones.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (validZones.size < 1000) validZones.set(zone, valid);
  }
  return valid;
}

/**
 * Converts timestamps of one source to UTC. Offsets of a zone are cached per local minute, so the
 * time zone database is consulted once a minute of log rather than once a line.
 */
export class TimestampReader {
  private readonly offsets = new Map<string, number>();

  constructor(readonly zone: string) {
    if (!isValidZone(zone)) throw new TimestampError(`unknown time zone '${zone}'`);
  }

  /** @returns epoch milliseconds; throws TimestampError with a reason for an impossible value. */
  read(text: string): number {
    const m = TIMESTAMP.exec(text);
    if (!m) throw new TimestampError(`not a timestamp: '${clip(text)}'`);
    const year = +m[1]!, month = +m[2]!, day = +m[3]!, hour = +m[4]!, minute = +m[5]!, second = +m[6]!;
    const millis = m[7] ? +(m[7] + '00').slice(0, 3) : 0;
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
      throw new TimestampError(`impossible timestamp '${clip(text)}'`);
    }
    const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
    const zone = m[8];
    if (zone !== undefined) {
      if (zone === 'Z') return wall;
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const oh = +digits.slice(0, 2), om = +digits.slice(2, 4);
      if (oh > 14 || om > 59) throw new TimestampError(`impossible offset in '${clip(text)}'`);
      return wall - sign * (oh * 60 + om) * 60_000;
    }
    // One zone lookup per local hour; an hour in which the offset changes is looked up per minute.
    const hourKey = text.slice(0, 13);
    let offset = this.offsets.get(hourKey);
    if (offset === undefined) {
      const first = this.offsetAt(year, month, day, hour, 0, text);
      offset = first === this.offsetAt(year, month, day, hour, 59, text) ? first : NaN;
      if (this.offsets.size > 50_000) this.offsets.clear();
      this.offsets.set(hourKey, offset);
    }
    if (Number.isNaN(offset)) offset = this.offsetAt(year, month, day, hour, minute, text);
    return wall - offset * 60_000;
  }

  private offsetAt(year: number, month: number, day: number, hour: number, minute: number, text: string): number {
    const local = DateTime.fromObject({ year, month, day, hour, minute }, { zone: this.zone });
    if (!local.isValid) throw new TimestampError(`impossible timestamp '${clip(text)}' in ${this.zone}`);
    // luxon moves a wall time inside a DST gap forward; keep the offset it chose.
    return local.offset;
  }
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function toIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
