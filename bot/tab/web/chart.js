// @ts-check
/**
 * The trend chart, drawn as inline SVG from the API's numbers (no chart library, nothing from the
 * internet): one bar per hour, the series stacked in legend order, the release marked with a
 * dashed line. Colours come from the theme's CSS variables (series-0 … series-5). Each bar keeps
 * its numbers in data attributes and a <title> (hover), and the same numbers are in a table below
 * for people who cannot see the chart.
 */
import { h, s } from './dom.js';
import { formatTime, plural } from './format.js';

/** @typedef {{ key: string, count: number }} Bucket */
/** @typedef {{ key: string, label: string, disabled?: boolean, total: number, buckets: Bucket[] }} Series */
/** @typedef {{ by: 'rule' | 'dataset', hours: number, timeZone: string, from: string, to: string, releaseAt?: string, series: Series[] }} Trend */

const HEIGHT = 320;
const MARGIN = { top: 36, right: 20, bottom: 52, left: 48 };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** How many colours the stylesheet defines. */
export const SERIES_COLOURS = 6;

/**
 * A y axis with whole-number steps of 1, 2 or 5 × 10ⁿ, about four of them.
 * @param {number} max
 */
export function niceScale(max) {
  if (max <= 0) return { top: 4, step: 1 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((v) => v >= raw) ?? 10 * magnitude);
  return { top: Math.ceil(max / step) * step, step };
}

/**
 * Date and hour of a bucket key, read from the key itself: it is written in the trend's zone
 * ("2020-06-10T06:00:00.000+02:00"), so the labels need no zone arithmetic.
 * @param {string} key
 */
export function bucketLabel(key) {
  const [y, m, d] = key.slice(0, 10).split('-').map(Number);
  const hour = Number(key.slice(11, 13));
  const weekday = DAYS[new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay()];
  return { day: `${weekday} ${d} ${MONTHS[(m ?? 1) - 1]}`, hour, hh: key.slice(11, 13) };
}

/**
 * @param {Trend} trend
 * @param {number} width the drawing's width in CSS pixels (text stays 12 px at any width)
 * @returns {SVGSVGElement}
 */
export function trendChart(trend, width) {
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const n = trend.series[0]?.buckets.length ?? 0;
  const keys = trend.series[0]?.buckets.map((b) => b.key) ?? [];
  const totals = keys.map((_k, i) => trend.series.reduce((sum, series) => sum + (series.buckets[i]?.count ?? 0), 0));
  const { top, step } = niceScale(Math.max(0, ...totals));
  const bw = n ? plotW / n : plotW;
  const y = (/** @type {number} */ v) => MARGIN.top + plotH - (v / top) * plotH;
  const x = (/** @type {number} */ i) => MARGIN.left + i * bw;
  const what = trend.by === 'rule' ? 'events matching each rule' : 'errors of each log';
  const grand = trend.series.reduce((sum, series) => sum + series.total, 0);

  const svg = s('svg', {
    class: 'trend-chart',
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: 'img',
    'aria-labelledby': 'trend-svg-title trend-svg-desc',
    'data-hours': n,
  });
  svg.append(
    s('title', { id: 'trend-svg-title' }, `${what[0]?.toUpperCase()}${what.slice(1)} per hour, last ${trend.hours} hours`),
    s(
      'desc',
      { id: 'trend-svg-desc' },
      `${plural(grand, 'event')} in all: ${trend.series.map((series) => `${series.label} ${series.total}`).join(', ')}. Busiest hour: ${Math.max(0, ...totals)} events. The table below the chart has every number.`,
    ),
  );

  const grid = s('g', { class: 'grid', 'aria-hidden': 'true' });
  for (let v = 0; v <= top; v += step) {
    grid.append(
      s('line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'gridline' }),
      s('text', { x: MARGIN.left - 8, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v),
    );
  }
  svg.append(grid);

  // Hour labels far enough apart to read; days where a day starts.
  const labelEvery = [1, 2, 3, 6, 12, 24].find((k) => k * bw >= 44) ?? 24;
  const axis = s('g', { class: 'x-axis', 'aria-hidden': 'true' });
  const firstMidnight = keys.findIndex((k) => bucketLabel(k).hour === 0);
  keys.forEach((key, i) => {
    const label = bucketLabel(key);
    const midnight = label.hour === 0;
    if (label.hour % labelEvery === 0) {
      axis.append(
        s('line', { x1: x(i), x2: x(i), y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 5, class: 'tick-line' }),
        s('text', { x: x(i), y: MARGIN.top + plotH + 17, 'text-anchor': 'middle', class: 'tick' }, `${label.hh}:00`),
      );
    }
    if (midnight) axis.append(s('line', { x1: x(i), x2: x(i), y1: MARGIN.top + plotH + 24, y2: MARGIN.top + plotH + 42, class: 'day-tick' }));
    // The first, partial day gets its name too, unless the next day's would run into it.
    if (midnight || (i === 0 && (firstMidnight < 0 || firstMidnight * bw > 90))) {
      axis.append(s('text', { x: x(i) + 4, y: MARGIN.top + plotH + 38, 'text-anchor': 'start', class: 'day' }, label.day));
    }
  });
  svg.append(axis);

  const bars = s('g', { class: 'bars' });
  const gap = bw > 4 ? 1 : 0;
  keys.forEach((key, i) => {
    let stacked = 0;
    const label = bucketLabel(key);
    const next = String((label.hour + 1) % 24).padStart(2, '0');
    trend.series.forEach((series, si) => {
      const count = series.buckets[i]?.count ?? 0;
      if (!count) return;
      const y0 = y(stacked);
      const y1 = y(stacked + count);
      stacked += count;
      bars.append(
        s(
          'rect',
          {
            x: x(i) + gap / 2,
            y: y1,
            width: Math.max(0.5, bw - gap),
            height: y0 - y1,
            class: `bar series-${si % SERIES_COLOURS}`,
            'data-series': series.key,
            'data-key': key,
            'data-count': count,
          },
          s('title', {}, `${series.label}, ${label.day} ${label.hh}:00–${next}:00: ${plural(count, 'event')}`),
        ),
      );
    });
  });
  svg.append(bars);

  if (!grand) {
    svg.append(s('text', { x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'empty' }, 'No events in this period'));
  }

  if (trend.releaseAt && n) {
    const t = Date.parse(trend.releaseAt);
    const end = Date.parse(trend.to);
    const i = keys.findIndex((k, j) => Date.parse(k) <= t && t < (j + 1 < n ? Date.parse(keys[j + 1] ?? '') : end));
    if (i >= 0) {
      const rx = x(i) + ((t - Date.parse(keys[i] ?? '')) / 3600_000) * bw;
      const text = `Release ${formatTime(trend.releaseAt, trend.timeZone)}`;
      const right = rx > MARGIN.left + plotW - 180;
      svg.append(
        s(
          'g',
          { class: 'release', 'data-release': trend.releaseAt },
          s('line', { x1: rx, x2: rx, y1: MARGIN.top - 14, y2: MARGIN.top + plotH }),
          s('text', { x: right ? rx - 6 : rx + 6, y: MARGIN.top - 18, 'text-anchor': right ? 'end' : 'start' }, text),
        ),
      );
    }
  }
  return svg;
}

/**
 * The legend: colour, name and total of each series.
 * @param {Trend} trend
 */
export function trendLegend(trend) {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Series' },
    ...trend.series.map((series, si) =>
      h(
        'li',
        { 'data-series': series.key, 'data-total': series.total },
        h('span', { class: `swatch series-${si % SERIES_COLOURS}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-label' }, series.label),
        series.disabled ? h('span', { class: 'badge muted' }, 'off') : null,
        h('span', { class: 'legend-total' }, plural(series.total, 'event')),
      ),
    ),
  );
}

/**
 * The chart's numbers as a table: one row per hour with any events (quiet hours left out).
 * @param {Trend} trend
 */
export function trendTable(trend) {
  const keys = trend.series[0]?.buckets.map((b) => b.key) ?? [];
  const rows = keys
    .map((key, i) => ({ key, counts: trend.series.map((series) => series.buckets[i]?.count ?? 0) }))
    .filter((r) => r.counts.some((c) => c > 0));
  return h(
    'table',
    { class: 'grid numbers' },
    h('caption', {}, `Events per hour (${trend.timeZone}); hours without events are left out.`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Hour'), ...trend.series.map((series) => h('th', { scope: 'col', class: 'num' }, series.label)), h('th', { scope: 'col', class: 'num' }, 'All'))),
    h(
      'tbody',
      {},
      ...rows.map((r) => {
        const label = bucketLabel(r.key);
        return h(
          'tr',
          { 'data-key': r.key },
          h('th', { scope: 'row' }, `${label.day} ${label.hh}:00`),
          ...r.counts.map((c, si) => h('td', { class: 'num', 'data-series': trend.series[si]?.key }, c)),
          h('td', { class: 'num' }, r.counts.reduce((a, b) => a + b, 0)),
        );
      }),
      rows.length ? null : h('tr', {}, h('td', { colspan: trend.series.length + 2 }, 'No events in this period.')),
    ),
  );
}
