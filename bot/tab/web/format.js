// @ts-check
/**
 * Times and counts as the cards write them ("Fri 12 Jun 16:30", "3 events"), in the dashboard's
 * zone (the configured one, the cards' zone too), whatever zone the browser is in.
 */

/**
 * @param {string} timeZone
 * @returns {Intl.DateTimeFormat}
 */
function formatIn(timeZone) {
  return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/**
 * The parts of an instant in a zone.
 * @param {string | number} instant ISO 8601 or epoch ms
 * @param {string} timeZone
 */
export function partsOf(instant, timeZone) {
  const date = new Date(typeof instant === 'number' ? instant : Date.parse(instant));
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of formatIn(timeZone).formatToParts(date)) p[part.type] = part.value;
  return { weekday: p.weekday ?? '', day: p.day ?? '', month: p.month ?? '', year: p.year ?? '', hour: p.hour ?? '', minute: p.minute ?? '' };
}

/**
 * "Fri 12 Jun 16:30".
 * @param {string | number} instant
 * @param {string} timeZone
 */
export function formatTime(instant, timeZone) {
  const p = partsOf(instant, timeZone);
  return `${p.weekday} ${p.day} ${p.month} ${p.hour}:${p.minute}`;
}

/**
 * "3 events", "1 event".
 * @param {number} n
 * @param {string} word
 */
export function plural(n, word) {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * A <time> element with the machine-readable instant and the people-readable text.
 * @param {string} instant ISO 8601
 * @param {string} timeZone
 * @returns {HTMLTimeElement}
 */
export function timeElement(instant, timeZone) {
  const el = document.createElement('time');
  el.dateTime = instant;
  el.textContent = formatTime(instant, timeZone);
  return el;
}
