import { Client, errors } from '@elastic/elasticsearch';
import { readFileSync } from 'node:fs';
import { bucketKey } from '../histogram';
import { LogEvent, orderEvent, sourceOf } from '../log-event';
import { Bucket, Hit, LogStore, SearchOptions, SearchResult, StoreUnavailableError, WriteItem, WriteResult } from '../log-store';
import { InvalidQueryError, LogQuery, MAX_HISTOGRAM_BUCKETS } from '../../query/log-query';
import { compileSearchBody, IGNORE_ABOVE } from './compile';

export interface ElasticsearchOptions {
  node: string;
  apiKey?: string;
  username?: string;
  password?: string;
  /** Index (and template pattern prefix) for events. Default `supportbot-logs`. */
  index?: string;
  /** Per search, milliseconds. Default 10 000. */
  timeoutMs?: number;
  shards?: number;
  replicas?: number;
  /** Retries of a bulk request or of items Elasticsearch refused with 429. Default 8. */
  bulkRetries?: number;
  /** First retry delay in ms, doubled each time (capped at 30 s). Default 200. */
  retryDelayMs?: number;
  /** Skip TLS certificate checks (self-signed test clusters only). */
  tlsInsecure?: boolean;
  caFile?: string;
}

export function createElasticsearchClient(options: ElasticsearchOptions): Client {
  return new Client({
    node: options.node,
    ...(options.apiKey
      ? { auth: { apiKey: options.apiKey } }
      : options.username
        ? { auth: { username: options.username, password: options.password ?? '' } }
        : {}),
    requestTimeout: 30_000,
    maxRetries: 0,
    ...(options.tlsInsecure || options.caFile
      ? {
          tls: {
            ...(options.tlsInsecure ? { rejectUnauthorized: false } : {}),
            ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
          },
        }
      : {}),
  });
}

const keyword = { type: 'keyword', ignore_above: IGNORE_ABOVE };
const textWithKeyword = { type: 'text', fields: { keyword } };

/** Explicit mappings: ECS types, keyword for exact values, text plus keyword for `message`. */
export function indexTemplate(index: string, shards: number, replicas: number): Record<string, unknown> {
  return {
    index_patterns: [`${index}*`],
    priority: 200,
    _meta: { description: 'supportbot log events (ECS field names)', managed_by: 'supportbot' },
    template: {
      settings: { number_of_shards: shards, number_of_replicas: replicas, refresh_interval: '1s' },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date' },
          message: textWithKeyword,
          log: {
            properties: {
              level: { type: 'keyword' },
              logger: keyword,
              file: { properties: { path: keyword, line: { type: 'long' } } },
            },
          },
          event: { properties: { dataset: keyword, duration: { type: 'long' } } },
          host: { properties: { name: keyword } },
          user: { properties: { id: keyword, name: keyword } },
          http: {
            properties: {
              request: { properties: { method: keyword, id: keyword, params: { type: 'keyword', index: false, doc_values: false } } },
              response: { properties: { status_code: { type: 'long' } } },
              route: keyword,
            },
          },
          url: { properties: { path: keyword } },
          source: { properties: { ip: { type: 'ip' } } },
          error: { properties: { type: keyword, message: textWithKeyword, stack_trace: textWithKeyword } },
          document: { properties: { id: keyword, type: keyword } },
          entity: { properties: { id: keyword } },
          params: { type: 'flattened' },
          labels: { type: 'flattened' },
        },
      },
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Events in Elasticsearch: one index behind an index template, bulk writes with ids from
 * provenance, retries of 429 with back-off. Answers exactly as the embedded store does.
 */
export class ElasticsearchLogStore implements LogStore {
  readonly kind = 'elasticsearch' as const;
  readonly index: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: Client,
    private readonly options: Omit<ElasticsearchOptions, 'node'> = {},
  ) {
    this.index = options.index ?? 'supportbot-logs';
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async init(): Promise<void> {
    // Small requests: an unresponsive node is reported as fast as a slow search would be.
    const quick = { requestTimeout: this.timeoutMs };
    await this.guard(async () => {
      await this.client.indices.putIndexTemplate(
        { name: this.index, ...(indexTemplate(this.index, this.options.shards ?? 1, this.options.replicas ?? 0) as object) } as never,
        quick,
      );
      const exists = await this.client.indices.exists({ index: this.index }, quick);
      if (!exists) {
        try {
          await this.client.indices.create({ index: this.index }, quick);
        } catch (err) {
          // Another process created it first.
          if (!(err instanceof errors.ResponseError && err.body?.error?.type === 'resource_already_exists_exception')) throw err;
        }
      }
    });
  }

  async write(items: WriteItem[]): Promise<WriteResult> {
    let pending = items;
    let added = 0;
    const rejected: { id: string; reason: string }[] = [];
    const retries = this.options.bulkRetries ?? 8;
    let delay = this.options.retryDelayMs ?? 200;
    for (let attempt = 0; pending.length; attempt++) {
      let response;
      try {
        response = await this.client.bulk({
          operations: pending.flatMap((item) => [{ index: { _index: this.index, _id: item.id } }, item.event]),
        });
      } catch (err) {
        if (attempt < retries && isRetryable(err)) {
          await sleep(delay);
          delay = Math.min(delay * 2, 30_000);
          continue;
        }
        throw unavailable(err);
      }
      const retry: WriteItem[] = [];
      response.items.forEach((entry, i) => {
        const r = entry.index!;
        if (r.status === 429 && attempt < retries) retry.push(pending[i]!);
        else if (r.error) rejected.push({ id: pending[i]!.id, reason: `${r.error.type}: ${r.error.reason ?? ''}`.trim() });
        else if (r.result === 'created') added++;
      });
      pending = retry;
      if (pending.length) {
        // Back-pressure: Elasticsearch said it is busy; wait before sending the refused items again.
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    return { added, rejected };
  }

  async refresh(): Promise<void> {
    await this.guard(() => this.client.indices.refresh({ index: this.index, ignore_unavailable: true }, { requestTimeout: this.timeoutMs }));
  }

  async size(): Promise<number> {
    return this.guard(async () => (await this.client.count({ index: this.index, ignore_unavailable: true }, { requestTimeout: this.timeoutMs })).count);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async search(query: LogQuery, options: SearchOptions = {}): Promise<SearchResult> {
    const body = compileSearchBody(query);
    const response = await this.guard(() =>
      this.client.search(
        { index: this.index, ignore_unavailable: true, ...body } as never,
        { requestTimeout: options.timeoutMs ?? this.timeoutMs },
      ),
    );
    const r = response as unknown as {
      hits: { total: { value: number }; hits: { _source: LogEvent }[] };
      aggregations?: Record<string, { buckets?: { key: string | number; key_as_string?: string; doc_count: number }[]; sum_other_doc_count?: number; doc_count?: number }>;
    };
    const total = r.hits.total.value;
    switch (query.shape.kind) {
      case 'list':
        return { total, hits: r.hits.hits.map((h): Hit => ({ source: sourceOf(h._source), ...orderEvent(h._source) })) };
      case 'count':
        return { total, hits: [] };
      case 'terms': {
        const groups = r.aggregations!.groups!;
        const buckets: Bucket[] = groups.buckets!.map((b) => ({ key: String(b.key_as_string ?? b.key), count: b.doc_count }));
        const withValue = r.aggregations!.with_value!.doc_count!;
        return { total, hits: [], buckets, otherCount: withValue - buckets.reduce((s, b) => s + b.count, 0) };
      }
      case 'histogram': {
        const zone = query.shape.timeZone;
        const buckets = r.aggregations!.histogram!.buckets!.map((b) => ({ key: bucketKey(Number(b.key), zone), count: b.doc_count }));
        return { total, hits: [], buckets };
      }
    }
  }

  /** Runs a request; Elasticsearch being down, slow or overloaded becomes StoreUnavailableError. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof errors.ResponseError && err.statusCode === 400) {
        const text = JSON.stringify(err.body ?? '');
        if (text.includes('too_many_buckets')) {
          throw new InvalidQueryError(`more than ${MAX_HISTOGRAM_BUCKETS} buckets: narrow the time range`);
        }
      }
      throw unavailable(err);
    }
  }
}

function isRetryable(err: unknown): boolean {
  if (err instanceof errors.ResponseError) return [429, 502, 503, 504].includes(err.statusCode ?? 0);
  return err instanceof errors.ConnectionError || err instanceof errors.TimeoutError;
}

function unavailable(err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const detail =
    err instanceof errors.TimeoutError
      ? 'request timed out'
      : err instanceof errors.ConnectionError
        ? `cannot connect (${err.message})`
        : err instanceof errors.ResponseError
          ? `HTTP ${err.statusCode}: ${err.message.slice(0, 300)}`
          : String(err);
  return new StoreUnavailableError(detail, { cause: err });
}
