import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient, ElasticsearchLogStore } from '../../src/logs/elasticsearch/elasticsearch-log-store';
import { ingestPaths } from '../../src/logs/ingest';
import { LogStore } from '../../src/logs/log-store';
import { loadSourcesConfig } from '../../src/logs/sources';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';
import { SAMPLE_LOGS } from './truth';

export function elasticsearchSkipped(): boolean {
  return !process.env.ELASTICSEARCH_URL && process.env.SUPPORTBOT_SKIP_ELASTICSEARCH === '1';
}

export function esClient(): Client {
  return createElasticsearchClient({
    node: process.env.ELASTICSEARCH_URL!,
    username: process.env.ELASTICSEARCH_USERNAME,
    password: process.env.ELASTICSEARCH_PASSWORD,
    apiKey: process.env.ELASTICSEARCH_API_KEY,
  });
}

/** A store under test and how to get rid of it. */
export interface StoreFixture {
  name: 'sqlite' | 'elasticsearch';
  make(): Promise<{ store: LogStore; dispose(): Promise<void> }>;
}

export function tempDir(prefix = 'supportbot-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const sqliteFixture: StoreFixture = {
  name: 'sqlite',
  async make() {
    const dir = tempDir();
    const store = new SqliteLogStore({ file: join(dir.path, 'logs.db') });
    await store.init();
    return { store, dispose: async () => { await store.close(); dir.remove(); } };
  },
};

/** Deletes a test index and its template. */
export async function deleteIndex(index: string): Promise<void> {
  const client = esClient();
  try {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
  } finally {
    await client.close();
  }
}

export const elasticsearchFixture: StoreFixture = {
  name: 'elasticsearch',
  async make() {
    const index = `test-logs-${randomBytes(4).toString('hex')}`;
    const store = new ElasticsearchLogStore(esClient(), { index, retryDelayMs: 50 });
    await store.init();
    return {
      store,
      dispose: async () => {
        await deleteIndex(index);
        await store.close();
      },
    };
  },
};

/** A store of the fixture's kind holding the sample data, for a suite's before/after. */
export function sampleStore(fixture: StoreFixture): { get: () => LogStore; before: () => Promise<void>; after: () => Promise<void> } {
  let made: { store: LogStore; dispose(): Promise<void> } | undefined;
  return {
    get: () => made!.store,
    before: async () => {
      made = await fixture.make();
      await ingestPaths([SAMPLE_LOGS], { store: made.store, sources: loadSourcesConfig() });
    },
    after: async () => made?.dispose(),
  };
}

/** Both stores, Elasticsearch only when a node is available (never skipped in CI: see global.ts). */
export function storeFixtures(): StoreFixture[] {
  return elasticsearchSkipped() ? [sqliteFixture] : [sqliteFixture, elasticsearchFixture];
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
