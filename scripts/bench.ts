/**
 * `npm run bench`: the performance figures the README quotes, measured here and printed.
 *
 *   npm run bench                 # every section
 *   npm run bench -- ingest       # one section (ingest, ask, alerts)
 *
 * Uses ELASTICSEARCH_URL when set, otherwise starts the test node like the tests do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElasticsearchClient, ElasticsearchLogStore } from '../src/logs/elasticsearch/elasticsearch-log-store';
import { ingestPaths, parserFor, resolveTargets } from '../src/logs/ingest';
import { readLines } from '../src/logs/line-reader';
import { LogStore } from '../src/logs/log-store';
import { loadSourcesConfig } from '../src/logs/sources';
import { SqliteLogStore } from '../src/logs/sqlite/sqlite-log-store';
import { RunningNode, startElasticsearch } from './elasticsearch-node';
import { generateLogs } from './generate-logs';

export interface BenchContext {
  lines: number;
  logsDir: string;
  workDir: string;
  sqlite?: SqliteLogStore;
  elasticsearch?: ElasticsearchLogStore;
  node?: RunningNode;
}

export function report(name: string, value: string, target?: string): void {
  process.stdout.write(`  ${name.padEnd(58)} ${value.padStart(18)}${target ? `   (target ${target})` : ''}\n`);
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function parseOnly(ctx: BenchContext): Promise<void> {
  const sources = loadSourcesConfig();
  const targets = await resolveTargets([ctx.logsDir], { malformed: [], unreadable: [] });
  const start = process.hrtime.bigint();
  let lines = 0;
  let events = 0;
  for (const target of targets) {
    const made = (await parserFor(target, sources, []))!;
    for await (const line of readLines(target.absolute)) {
      made.parser.feed(line);
      lines++;
      events += made.parser.take().events.length;
    }
    made.parser.flush();
    events += made.parser.take().events.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  report(`parse only: ${fmt(lines)} lines → ${fmt(events)} events`, `${fmt(lines / seconds)} lines/s`, '≥ 100,000 lines/s');
}

async function ingestInto(ctx: BenchContext, store: LogStore, name: string, target: string): Promise<void> {
  await store.init();
  const start = process.hrtime.bigint();
  const result = await ingestPaths([ctx.logsDir], { store, sources: loadSourcesConfig() });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.malformed.length) throw new Error(`benchmark data had malformed lines: ${JSON.stringify(result.malformed.slice(0, 3))}`);
  report(`into ${name}: ${fmt(result.events)} events in ${seconds.toFixed(1)} s`, `${fmt(result.events / seconds)} events/s`, target);
}

export async function benchIngest(ctx: BenchContext): Promise<void> {
  process.stdout.write('\nIngest (issue #2)\n');
  await parseOnly(ctx);
  ctx.sqlite = new SqliteLogStore({ file: join(ctx.workDir, 'logs.db') });
  await ingestInto(ctx, ctx.sqlite, 'SQLite', '≥ 50,000 events/s');
  const es = await elasticsearch(ctx);
  await ingestInto(ctx, es, 'Elasticsearch', '≥ 20,000 events/s');
}

/** A store over the benchmark data in Elasticsearch (started here when ELASTICSEARCH_URL is not set). */
export async function elasticsearch(ctx: BenchContext): Promise<ElasticsearchLogStore> {
  if (ctx.elasticsearch) return ctx.elasticsearch;
  if (!process.env.ELASTICSEARCH_URL) {
    process.env.SUPPORTBOT_ES_HEAP ??= '1g';
    ctx.node = await startElasticsearch((s) => process.stderr.write(`  [elasticsearch] ${s}\n`));
    Object.assign(process.env, ctx.node.env);
  }
  const client = createElasticsearchClient({
    node: process.env.ELASTICSEARCH_URL!,
    username: process.env.ELASTICSEARCH_USERNAME,
    password: process.env.ELASTICSEARCH_PASSWORD,
    apiKey: process.env.ELASTICSEARCH_API_KEY,
  });
  const index = `bench-logs-${process.pid}`;
  ctx.elasticsearch = new ElasticsearchLogStore(client, { index, timeoutMs: 60_000 });
  return ctx.elasticsearch;
}

interface Section {
  run: (ctx: BenchContext) => Promise<void>;
  /** Needs the 1M-line data set in both stores. */
  needsStores: boolean;
}

const SECTIONS: Record<string, Section> = {
  ingest: { run: benchIngest, needsStores: true },
};

/** Registers a section (later issues add theirs). */
export function addSection(name: string, run: (ctx: BenchContext) => Promise<void>, options: { needsStores?: boolean } = {}): void {
  SECTIONS[name] = { run, needsStores: options.needsStores ?? false };
}

export async function main(argv: string[]): Promise<void> {
  const wanted = argv.length ? argv : Object.keys(SECTIONS);
  for (const name of wanted) if (!SECTIONS[name]) throw new Error(`unknown section '${name}' (${Object.keys(SECTIONS).join(', ')})`);
  const lines = Number(process.env.BENCH_LINES ?? 1_000_000);
  const needsStores = wanted.some((name) => SECTIONS[name]!.needsStores);
  const generated = needsStores ? generateLogs(lines, join(tmpdir(), `supportbot-bench-${lines}`)) : { dir: '', lines: 0 };
  const ctx: BenchContext = { lines, logsDir: generated.dir, workDir: mkdtempSync(join(tmpdir(), 'supportbot-bench-')) };
  process.stdout.write(`supportbot benchmarks${needsStores ? `: ${fmt(generated.lines)} log lines (the sample scaled by scripts/generate-logs.ts)` : ''}, ${new Date().toISOString()}\n`);
  try {
    if (needsStores && !wanted.includes('ingest')) {
      // Later sections query the stores: fill them without timing.
      ctx.sqlite = new SqliteLogStore({ file: join(ctx.workDir, 'logs.db') });
      await ctx.sqlite.init();
      await ingestPaths([ctx.logsDir], { store: ctx.sqlite, sources: loadSourcesConfig() });
      const es = await elasticsearch(ctx);
      await es.init();
      await ingestPaths([ctx.logsDir], { store: es, sources: loadSourcesConfig() });
    }
    for (const name of wanted) await SECTIONS[name]!.run(ctx);
  } finally {
    await ctx.sqlite?.close();
    if (ctx.elasticsearch) {
      const client = createElasticsearchClient({
        node: process.env.ELASTICSEARCH_URL!,
        username: process.env.ELASTICSEARCH_USERNAME,
        password: process.env.ELASTICSEARCH_PASSWORD,
      });
      await client.indices.delete({ index: ctx.elasticsearch.index, ignore_unavailable: true }).catch(() => undefined);
      await client.indices.deleteIndexTemplate({ name: ctx.elasticsearch.index }).catch(() => undefined);
      await client.close();
      await ctx.elasticsearch.close();
    }
    await ctx.node?.stop();
    rmSync(ctx.workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // Sections of later issues register themselves.
  require('./bench-ask');
  require('./bench-fanout');
  require('./bench-notify');
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
