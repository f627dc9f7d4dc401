import { join } from 'node:path';
import { Clock, createClock } from './clock';
import { Config } from './config';
import { createElasticsearchClient, ElasticsearchLogStore } from './logs/elasticsearch/elasticsearch-log-store';
import { ingestPaths, IngestReport } from './logs/ingest';
import { LogStore } from './logs/log-store';
import { loadSourcesConfig, SourcesConfig } from './logs/sources';
import { SqliteLogStore } from './logs/sqlite/sqlite-log-store';
import { loadUserDirectory, UserDirectory } from './directory/user-directory';
import { Asker } from './query/ask';

export interface Engine {
  readonly config: Readonly<Config>;
  readonly logStore: LogStore;
  readonly sources: SourcesConfig;
  readonly directory: UserDirectory;
  readonly asker: Asker;
  readonly clock: Clock;
  ingest(paths: string[]): Promise<IngestReport>;
  close(): Promise<void>;
}

export interface EngineOverrides {
  logStore?: LogStore;
  sources?: SourcesConfig;
  directory?: UserDirectory;
  clock?: Clock;
}

/** The log store the configuration asks for: Elasticsearch when `ELASTICSEARCH_URL` is set, else embedded SQLite. */
export function createLogStore(config: Readonly<Config>): LogStore {
  if (config.elasticsearch) {
    const es = config.elasticsearch;
    return new ElasticsearchLogStore(createElasticsearchClient(es), { index: es.index, timeoutMs: config.searchTimeoutMs });
  }
  return new SqliteLogStore({ file: join(config.dataDir, 'logs.db'), timeoutMs: config.searchTimeoutMs });
}

/** Composition root of the engine: stores, sources, ingest; wired by hand, nothing created on import. */
export async function createEngine(config: Readonly<Config>, overrides: EngineOverrides = {}): Promise<Engine> {
  const sources = overrides.sources ?? loadSourcesConfig(config.sourcesFile);
  const directory = overrides.directory ?? loadUserDirectory(config.userDirectory);
  const logStore = overrides.logStore ?? createLogStore(config);
  const clock = overrides.clock ?? createClock(config);
  await logStore.init();
  return {
    clock,
    config,
    logStore,
    sources,
    directory,
    asker: new Asker(logStore, directory, clock),
    ingest: (paths) => ingestPaths(paths, { store: logStore, sources }),
    close: () => logStore.close(),
  };
}
