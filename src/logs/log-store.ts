import { LogEvent } from './log-event';
import { LogQuery } from '../query/log-query';

/** An event as a store returns it, with its provenance as `path:line`. */
export type Hit = LogEvent & { source: string };

export interface Bucket {
  /** The grouped value, or for a histogram the bucket start in ISO 8601 with the zone's offset. */
  key: string;
  count: number;
}

export interface SearchResult {
  /** Every matching event, however many `hits` the shape asked for. */
  total: number;
  /** For `list`: the page of events in the shape's order. Empty for other shapes. */
  hits: Hit[];
  /** For `terms` and `histogram`. */
  buckets?: Bucket[];
  /** For `terms`: events whose value is not among the buckets (a `terms` shape is a top N). */
  otherCount?: number;
}

export interface WriteItem {
  /** Stable id derived from provenance; writing the same id again replaces the event, never duplicates it. */
  id: string;
  event: LogEvent;
}

export interface WriteResult {
  /** Ids that were new to the store. */
  added: number;
  /** Events the store refused (never retried: the event itself is the problem), with its reason. */
  rejected?: { id: string; reason: string }[];
}

export interface SearchOptions {
  /** Abandon the search after this many milliseconds (StoreUnavailableError). Default from configuration. */
  timeoutMs?: number;
}

/**
 * Where events live: the embedded SQLite store or Elasticsearch. Both answer every LogQuery with
 * the same result; one contract suite (test/logs/log-store.contract.ts) runs against both.
 */
export interface LogStore {
  readonly kind: 'sqlite' | 'elasticsearch';
  /** Creates what the store needs (tables, index template). Idempotent. */
  init(): Promise<void>;
  /** Writes a batch; replaces events whose id exists. */
  write(items: WriteItem[]): Promise<WriteResult>;
  search(query: LogQuery, options?: SearchOptions): Promise<SearchResult>;
  /** Makes everything written so far visible to search (Elasticsearch refresh). */
  refresh(): Promise<void>;
  /** Number of events stored. */
  size(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The store cannot answer now (down, timing out, overloaded). `userMessage` is safe to show to a
 * person; `cause` is for the logs only.
 */
export class StoreUnavailableError extends Error {
  readonly userMessage = 'The log store is unavailable right now. Please try again in a minute.';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`log store unavailable: ${detail}`, options);
  }
}
