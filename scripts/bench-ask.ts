import { loadUserDirectory } from '../src/directory/user-directory';
import { LogStore } from '../src/logs/log-store';
import { Asker } from '../src/query/ask';
import { EXAMPLES, parseQuestion } from '../src/query/parse-question';
import { projectPath } from '../src/paths';
import { addSection, BenchContext, elasticsearch, percentile, report } from './bench';

const QUESTIONS = [
  ...EXAMPLES,
  'how many errors this week',
  'errors for y.larsen',
  'count failed logins by client ip',
  'top 10 users with errors',
  'warnings on APP01 today',
  'errors on /api/entities since Wednesday',
  'show "Not authorized" this week',
  'errors for user 1087',
];

async function latency(name: string, store: LogStore, now: Date, target: string): Promise<void> {
  const asker = new Asker(store, loadUserDirectory(projectPath('samples', 'contoso', 'directory', 'users.csv')));
  const options = { now, timeZone: 'Europe/Berlin', limit: 50 };
  for (const q of QUESTIONS) {
    const parsed = await asker.parse(q, options);
    if (parsed.ok) await asker.run(parsed, options); // warm caches
  }
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const q of QUESTIONS) {
      const start = process.hrtime.bigint();
      const parsed = await asker.parse(q, options);
      if (!parsed.ok) throw new Error(`benchmark question not understood: ${q}: ${parsed.problems.join(' ')}`);
      await asker.run(parsed, options);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  times.sort((a, b) => a - b);
  report(`ask latency, ${name}: p50 / p95 over ${times.length} asks`, `${percentile(times, 50).toFixed(0)} / ${percentile(times, 95).toFixed(0)} ms`, target);
}

export async function benchAsk(ctx: BenchContext): Promise<void> {
  process.stdout.write('\nAsk (issue #3)\n');
  const directory = loadUserDirectory(projectPath('samples', 'contoso', 'directory', 'users.csv'));
  const vocabulary = { hosts: ['APP01', 'APP02'], datasets: ['api', 'auth'], documentTypes: ['Service Hours Adjustment'] };
  const now = new Date('2020-06-12T16:30:00+02:00');
  const rounds = 2000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const q of QUESTIONS) parseQuestion(q, { now, timeZone: 'Europe/Berlin', directory, vocabulary });
  const perQuestion = Number(process.hrtime.bigint() - start) / 1e6 / (rounds * QUESTIONS.length);
  report(`translation (question → LogQuery), mean of ${rounds * QUESTIONS.length}`, `${(perQuestion * 1000).toFixed(0)} µs`, '< 1 ms');
  // "Now" at the end of the generated data, so today and this week hold events.
  const last = await ctx.sqlite!.search({ filters: [], shape: { kind: 'list', limit: 1 } });
  const end = new Date(Date.parse(last.hits[0]!['@timestamp']) + 60_000);
  await latency(`SQLite (${ctx.lines.toLocaleString('en-US')} lines)`, ctx.sqlite!, end, 'p50 < 300 ms');
  await latency(`Elasticsearch (${ctx.lines.toLocaleString('en-US')} lines)`, await elasticsearch(ctx), end, 'p50 < 150 ms');
}

addSection('ask', benchAsk, { needsStores: true });
