import { DateTime } from 'luxon';
import { Answer } from './ask';

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** An answer as a plain-text table for the terminal; times in the asker's zone. */
export function formatAnswer(answer: Answer, zone: string): string {
  const lines = [`Understood: ${answer.interpretation}`];
  for (const note of answer.notes) lines.push(`Note: ${note}`);
  if (answer.buckets) {
    const max = Math.max(1, ...answer.buckets.map((b) => b.count));
    const width = Math.min(60, Math.max(5, ...answer.buckets.map((b) => b.key.length)));
    lines.push('');
    for (const b of answer.buckets) {
      const key = answer.query.shape.kind === 'histogram' ? DateTime.fromISO(b.key, { zone }).toFormat('ccc d LLL HH:mm') : b.key;
      lines.push(`  ${clip(key, width).padEnd(width)}  ${String(b.count).padStart(7)}  ${'█'.repeat(Math.round((b.count / max) * 30))}`);
    }
    if (answer.otherCount) lines.push(`  ${'(others)'.padEnd(width)}  ${String(answer.otherCount).padStart(7)}`);
    lines.push('', `Total: ${answer.total}`);
    return lines.join('\n');
  }
  if (answer.query.shape.kind === 'count') {
    lines.push('', `Total: ${answer.total}`);
    return lines.join('\n');
  }
  lines.push('', `${answer.total} event${answer.total === 1 ? '' : 's'}${answer.hits.length < answer.total ? `, newest ${answer.hits.length} shown` : ''}`);
  if (answer.hits.length) {
    lines.push('');
    lines.push(`  ${'time'.padEnd(19)}  ${'level'.padEnd(5)}  ${'user'.padEnd(6)}  ${'message'.padEnd(60)}  source`);
    for (const h of answer.hits) {
      const time = DateTime.fromISO(h['@timestamp'], { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
      lines.push(`  ${time}  ${h['log.level'].padEnd(5)}  ${(h['user.id'] ?? '').padEnd(6)}  ${clip(h.message, 60).padEnd(60)}  ${h.source}`);
    }
  }
  return lines.join('\n');
}
