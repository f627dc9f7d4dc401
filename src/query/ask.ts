import { UserDirectory } from '../directory/user-directory';
import { compileSearchBody, EsSearchBody } from '../logs/elasticsearch/compile';
import { Bucket, Hit, LogStore } from '../logs/log-store';
import { redactEvent } from '../logs/redact';
import { LogQuery } from './log-query';
import { parseQuestion, ParseResult, Vocabulary } from './parse-question';

export interface AskOptions {
  now?: Date;
  timeZone: string;
  limit?: number;
  /** Skip this many events of a list (the "show more" of a chat answer). */
  offset?: number;
  askerUserId?: string;
  timeoutMs?: number;
}

/** The answer to a question, as `supportbot ask --json` prints it. Secrets in hits are masked. */
export interface Answer {
  question: string;
  interpretation: string;
  query: LogQuery;
  total: number;
  hits: Hit[];
  buckets?: Bucket[];
  /** For a top N or group: events whose value is not among the buckets. */
  otherCount?: number;
  /** The exact request body the Elasticsearch store sends for this query. */
  elasticsearch: EsSearchBody;
  notes: string[];
  userIds: string[];
}

const VOCABULARY_TTL_MS = 60_000;

/**
 * Answers plain-language questions from a log store. Knows which nodes, logs and document types the
 * store holds (asked once a minute), so the parser recognises `APP01` or `auth` on their own.
 */
export class Asker {
  private vocabulary: { value: Vocabulary; at: number } | undefined;

  constructor(
    private readonly store: LogStore,
    private readonly directory: UserDirectory | undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  async vocabularyNow(): Promise<Vocabulary> {
    if (this.vocabulary && this.clock() - this.vocabulary.at < VOCABULARY_TTL_MS) return this.vocabulary.value;
    const values = async (field: 'host.name' | 'event.dataset' | 'document.type') =>
      (await this.store.search({ filters: [], shape: { kind: 'terms', field, size: 200 } })).buckets!.map((b) => b.key);
    const [hosts, datasets, documentTypes] = await Promise.all([values('host.name'), values('event.dataset'), values('document.type')]);
    const value = { hosts, datasets, documentTypes };
    this.vocabulary = { value, at: this.clock() };
    return value;
  }

  async parse(question: string, options: AskOptions): Promise<ParseResult> {
    return parseQuestion(question, {
      now: options.now ?? new Date(this.clock()),
      timeZone: options.timeZone,
      ...(this.directory ? { directory: this.directory } : {}),
      vocabulary: await this.vocabularyNow(),
      ...(options.askerUserId ? { askerUserId: options.askerUserId } : {}),
      limit: options.limit ?? 50,
    });
  }

  /** Runs an understood question (or its query, e.g. from a "show more" button). */
  async run(parsed: Extract<ParseResult, { ok: true }>, options: AskOptions): Promise<Answer> {
    const query = parsed.query;
    if (options.offset && query.shape.kind === 'list') query.shape = { ...query.shape, offset: options.offset };
    const result = await this.store.search(query, options.timeoutMs ? { timeoutMs: options.timeoutMs } : {});
    const answer: Answer = {
      question: parsed.question,
      interpretation: parsed.interpretation,
      query,
      total: result.total,
      hits: result.hits.map(redactEvent),
      elasticsearch: compileSearchBody(query),
      notes: parsed.notes,
      userIds: parsed.userIds,
    };
    if (result.buckets) answer.buckets = result.buckets;
    if (result.otherCount !== undefined) answer.otherCount = result.otherCount;
    return answer;
  }
}

/** The `--json` form of an answer: exactly the documented keys. */
export function answerJson(answer: Answer): Record<string, unknown> {
  const out: Record<string, unknown> = {
    question: answer.question,
    interpretation: answer.interpretation,
    query: answer.query,
    total: answer.total,
    hits: answer.hits,
  };
  if (answer.buckets) out.buckets = answer.buckets;
  out.elasticsearch = answer.elasticsearch;
  return out;
}
