import { DateTime } from 'luxon';

/**
 * A time range for people, in their zone: `Fri 12 Jun 2020 00:00–16:30 Europe/Berlin`,
 * `Thu 11 Jun 2020 00:00–24:00 Europe/Berlin`, `Mon 8 Jun 2020 00:00 – Fri 12 Jun 2020 16:30 Europe/Berlin`.
 */
export function describeRange(from: DateTime, to: DateTime, zone: string): string {
  const a = from.setZone(zone);
  const b = to.setZone(zone);
  const day = 'ccc d LLL yyyy';
  if (a.hasSame(b, 'day')) return `${a.toFormat(`${day} HH:mm`)}–${b.toFormat('HH:mm')} ${zone}`;
  if (b.equals(a.startOf('day').plus({ days: 1 })) && b.hour === 0 && b.minute === 0) {
    return `${a.toFormat(`${day} HH:mm`)}–24:00 ${zone}`;
  }
  return `${a.toFormat(`${day} HH:mm`)} – ${b.toFormat(`${day} HH:mm`)} ${zone}`;
}
