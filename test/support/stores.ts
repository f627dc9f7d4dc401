import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient, ElasticsearchLogStore } from '../../src/logs/elasticsearch/elasticsearch-log-store';
import { LogStore } from '../../src/logs/log-store';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store';

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

export const elasticsearchFixture: StoreFixture = {
  name: 'elasticsearch',
  async make() {
    const index = `test-logs-${randomBytes(4).toString('hex')}`;
    const client = esClient();
    const store = new ElasticsearchLogStore(client, { index, retryDelayMs: 50 });
    await store.init();
    return {
      store,
      dispose: async () => {
        await client.indices.delete({ index, ignore_unavailable: true });
        await client.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
        await store.close();
      },
    };
  },
};

/** Both stores, Elasticsearch only when a node is available (never skipped in CI: see global.ts). */
export function storeFixtures(): StoreFixture[] {
  return elasticsearchSkipped() ? [sqliteFixture] : [sqliteFixture, elasticsearchFixture];
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}
