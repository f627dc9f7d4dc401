import { DateTime } from 'luxon';
import { UserDirectory } from '../directory/user-directory';
import { tokenize } from '../logs/analysis';
import { LogLevel } from '../logs/log-event';
import { describeRange } from './describe';
import { Filter, GroupField, LogQuery, MAX_LIST_LIMIT, MAX_TERMS_SIZE, Shape } from './log-query';
import { MAX_QUESTION_LENGTH, normalizeQuestion, QuestionError, Token, tokenizeQuestion } from './question-tokens';
import { readTime, resolveTime, TimeError, TimePart } from './time-phrases';

/**
 * Plain-language support questions → LogQuery. Pure: no I/O; what it needs to know about the world
 * (who exists, which nodes and log kinds there are, what time it is) comes in the context.
 *
 * Every part of a question either becomes part of the query or is reported as not understood: the
 * parser never drops words silently, and a part it cannot read never widens the query (every filter
 * narrows; an unknown user is "no such user", not everyone's events).
 */
export interface ParseContext {
  /** The asker's "now". */
  now: Date;
  /** IANA zone of the asker: today, yesterday, hour buckets. */
  timeZone: string;
  /** Resolves logins and names to user ids. Without it only numeric user ids are understood. */
  directory?: UserDirectory;
  /** Values the store holds, so a bare `APP01` or `auth` is recognised. */
  vocabulary?: Vocabulary;
  /** The asker's own log user id, for "me" and "my". */
  askerUserId?: string;
  /** Events in a list; also the group count for "by X". Default 50. */
  limit?: number;
}

export interface Vocabulary {
  hosts: string[];
  datasets: string[];
  documentTypes: string[];
}

export interface Understood {
  ok: true;
  question: string;
  query: LogQuery;
  /** How the bot read the question, in words: `errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin`. */
  interpretation: string;
  /** User ids the question is about (an end user may only ask about themself). */
  userIds: string[];
  /** Worth knowing about the reading (e.g. a user id that is not in the directory). */
  notes: string[];
}

export interface NotUnderstood {
  ok: false;
  question: string;
  problems: string[];
  examples: string[];
}

export type ParseResult = Understood | NotUnderstood;

export const EXAMPLES = [
  'show errors for user 1087 today',
  'how many failed logins yesterday',
  'count errors by node this week',
  'show logs for document 11213',
  'errors per hour today',
  'top 5 errors this week',
  'show "Failed to perform." errors since Wednesday',
  'errors from 198.51.100.0/24 except 403',
  'warnings on APP02 between 10:00 and 11:30 yesterday',
];

const LEVEL_WORDS: Record<string, { levels: LogLevel[]; text: string }> = {
  error: { levels: ['error', 'fatal'], text: 'errors' },
  errors: { levels: ['error', 'fatal'], text: 'errors' },
  errored: { levels: ['error', 'fatal'], text: 'errors' },
  warning: { levels: ['warn'], text: 'warnings' },
  warnings: { levels: ['warn'], text: 'warnings' },
  warn: { levels: ['warn'], text: 'warnings' },
  info: { levels: ['info'], text: 'info events' },
  information: { levels: ['info'], text: 'info events' },
  debug: { levels: ['debug'], text: 'debug events' },
  trace: { levels: ['trace'], text: 'trace events' },
  fatal: { levels: ['fatal'], text: 'fatal errors' },
  critical: { levels: ['fatal'], text: 'fatal errors' },
  problems: { levels: ['warn', 'error', 'fatal'], text: 'problems' },
  problem: { levels: ['warn', 'error', 'fatal'], text: 'problems' },
  issues: { levels: ['warn', 'error', 'fatal'], text: 'problems' },
  failures: { levels: ['warn', 'error', 'fatal'], text: 'problems' },
};

const GROUP_WORDS: Record<string, { field: GroupField; text: string }> = {
  user: { field: 'user.id', text: 'user' },
  users: { field: 'user.id', text: 'user' },
  person: { field: 'user.id', text: 'user' },
  people: { field: 'user.id', text: 'user' },
  login: { field: 'user.name', text: 'login' },
  logins: { field: 'user.name', text: 'login' },
  node: { field: 'host.name', text: 'node' },
  nodes: { field: 'host.name', text: 'node' },
  host: { field: 'host.name', text: 'node' },
  hosts: { field: 'host.name', text: 'node' },
  server: { field: 'host.name', text: 'node' },
  servers: { field: 'host.name', text: 'node' },
  machine: { field: 'host.name', text: 'node' },
  machines: { field: 'host.name', text: 'node' },
  status: { field: 'http.response.status_code', text: 'status' },
  statuses: { field: 'http.response.status_code', text: 'status' },
  code: { field: 'http.response.status_code', text: 'status' },
  codes: { field: 'http.response.status_code', text: 'status' },
  endpoint: { field: 'http.route', text: 'endpoint' },
  endpoints: { field: 'http.route', text: 'endpoint' },
  route: { field: 'http.route', text: 'endpoint' },
  routes: { field: 'http.route', text: 'endpoint' },
  path: { field: 'url.path', text: 'path' },
  paths: { field: 'url.path', text: 'path' },
  url: { field: 'url.path', text: 'path' },
  urls: { field: 'url.path', text: 'path' },
  message: { field: 'message', text: 'message' },
  messages: { field: 'message', text: 'message' },
  level: { field: 'log.level', text: 'level' },
  levels: { field: 'log.level', text: 'level' },
  severity: { field: 'log.level', text: 'level' },
  logger: { field: 'log.logger', text: 'logger' },
  loggers: { field: 'log.logger', text: 'logger' },
  source: { field: 'event.dataset', text: 'log' },
  sources: { field: 'event.dataset', text: 'log' },
  dataset: { field: 'event.dataset', text: 'log' },
  datasets: { field: 'event.dataset', text: 'log' },
  document: { field: 'document.id', text: 'document' },
  documents: { field: 'document.id', text: 'document' },
  entity: { field: 'entity.id', text: 'entity' },
  entities: { field: 'entity.id', text: 'entity' },
  ip: { field: 'source.ip', text: 'client IP' },
  ips: { field: 'source.ip', text: 'client IP' },
  client: { field: 'source.ip', text: 'client IP' },
  clients: { field: 'source.ip', text: 'client IP' },
  address: { field: 'source.ip', text: 'client IP' },
  addresses: { field: 'source.ip', text: 'client IP' },
  exception: { field: 'error.type', text: 'exception type' },
  exceptions: { field: 'error.type', text: 'exception type' },
};

/** Two-word group names, tried before the one-word ones. */
const GROUP_PAIRS: Record<string, { field: GroupField; text: string }> = {
  'client ip': { field: 'source.ip', text: 'client IP' },
  'client ips': { field: 'source.ip', text: 'client IP' },
  'ip address': { field: 'source.ip', text: 'client IP' },
  'ip addresses': { field: 'source.ip', text: 'client IP' },
  'client address': { field: 'source.ip', text: 'client IP' },
  'status code': { field: 'http.response.status_code', text: 'status' },
  'status codes': { field: 'http.response.status_code', text: 'status' },
  'document type': { field: 'document.type', text: 'document type' },
  'document types': { field: 'document.type', text: 'document type' },
  'error type': { field: 'error.type', text: 'exception type' },
  'exception type': { field: 'error.type', text: 'exception type' },
  'error message': { field: 'message', text: 'message' },
  'user id': { field: 'user.id', text: 'user' },
};

const STATUS_WORDS: Record<string, { filter: Filter; text: string }> = {
  forbidden: { filter: { op: 'eq', field: 'http.response.status_code', value: 403 }, text: 'status 403 (forbidden)' },
  unauthorized: { filter: { op: 'eq', field: 'http.response.status_code', value: 401 }, text: 'status 401 (unauthorized)' },
  unauthorised: { filter: { op: 'eq', field: 'http.response.status_code', value: 401 }, text: 'status 401 (unauthorized)' },
  unprocessable: { filter: { op: 'eq', field: 'http.response.status_code', value: 422 }, text: 'status 422 (unprocessable)' },
  '4xx': { filter: { op: 'range', field: 'http.response.status_code', gte: 400, lte: 499 }, text: 'status 4xx' },
  '5xx': { filter: { op: 'range', field: 'http.response.status_code', gte: 500, lte: 599 }, text: 'status 5xx' },
  '2xx': { filter: { op: 'range', field: 'http.response.status_code', gte: 200, lte: 299 }, text: 'status 2xx' },
  '3xx': { filter: { op: 'range', field: 'http.response.status_code', gte: 300, lte: 399 }, text: 'status 3xx' },
};

const STATUS_PHRASES: [string[], Filter, string][] = [
  [['not', 'found'], { op: 'eq', field: 'http.response.status_code', value: 404 }, 'status 404 (not found)'],
  [['bad', 'request'], { op: 'eq', field: 'http.response.status_code', value: 400 }, 'status 400 (bad request)'],
  [['server', 'errors'], { op: 'range', field: 'http.response.status_code', gte: 500, lte: 599 }, 'status 5xx'],
  [['client', 'errors'], { op: 'range', field: 'http.response.status_code', gte: 400, lte: 499 }, 'status 4xx'],
  [['internal', 'server', 'error'], { op: 'eq', field: 'http.response.status_code', value: 500 }, 'status 500'],
  [['service', 'unavailable'], { op: 'eq', field: 'http.response.status_code', value: 503 }, 'status 503'],
];

/** Words that carry no meaning of their own in a support question. */
const FILLER = new Set(
  ('show list display find search get give tell me us what which who where were was are is be been there any ' +
    'the a an please pls can could would you i see look up logs log events event entries entry lines line records ' +
    'happened happen occurred occur went wrong with of in for and that have has had did do does about recent ' +
    'recently so far all every from on to by at as well also just only now lately request requests ' +
    'hey hi hello thanks thank kindly same here').split(' '),
);

/** Words other recognisers start with: after 'for' they are not a person's name. */
const KEYWORDS = new Set(['user', 'users', 'document', 'documents', 'doc', 'docs', 'entity', 'entities', 'node', 'host', 'server', 'machine',
  'ip', 'client', 'address', 'status', 'code', 'endpoint', 'path', 'url', 'route', 'request', 'failed', 'successful', 'login', 'my', 'me', 'each']);

const NEGATIONS = new Set(['except', 'excluding', 'exclude', 'without', 'not', 'but', 'besides', 'minus']);

interface Part {
  filter: Filter;
  text: string;
}

class Reader {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }
  word(k = 0): string {
    return this.tokens[this.i + k]?.lower ?? '';
  }
}

function readTimeSafe(tokens: Token[], i: number, now: DateTime): boolean {
  try {
    return readTime(tokens, i, now) !== undefined;
  } catch {
    return true;
  }
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** A display name of one to three words starting at tokens[i] (possessive 's allowed on the last). */
function readName(tokens: Token[], i: number, directory: UserDirectory | undefined): { ids: string[]; name: string; used: number } | undefined {
  if (!directory) return undefined;
  for (let n = 3; n >= 1; n--) {
    const words = tokens.slice(i, i + n);
    if (words.length < n || words.some((t) => t.kind !== 'word')) continue;
    const name = words.map((t, k) => (k === n - 1 ? t.text.replace(/'s$/i, '') : t.text)).join(' ');
    const people = directory.byDisplayName(name);
    if (people.length) return { ids: people.map((p) => p.userId), name: people[0]!.displayName, used: n };
  }
  return undefined;
}

export interface ParseState {
  parts: Part[];
  levels?: { levels: LogLevel[]; text: string };
  subject?: string;
  shape?: 'count' | { group: GroupField; text: string } | { histogram: 'hour' | 'day' };
  top?: number;
  time: TimePart[];
  userIds: string[];
  notes: string[];
  problems: string[];
}

export function parseQuestion(question: string, ctx: ParseContext): ParseResult {
  const fail = (problems: string[]): NotUnderstood => ({ ok: false, question, problems, examples: EXAMPLES });
  if (question.length > MAX_QUESTION_LENGTH) {
    return fail([`That question is ${question.length} characters long; ask in at most ${MAX_QUESTION_LENGTH}.`]);
  }
  const text = normalizeQuestion(question);
  if (!text) return fail(['The question is empty.']);
  let tokens: Token[];
  try {
    tokens = tokenizeQuestion(text);
  } catch (err) {
    if (err instanceof QuestionError) return fail([`I cannot read the question: ${err.message}.`]);
    throw err;
  }
  const now = DateTime.fromJSDate(ctx.now, { zone: ctx.timeZone });
  const state: ParseState = { parts: [], time: [], userIds: [], notes: [], problems: [] };
  const r = new Reader(tokens);
  const vocab = ctx.vocabulary ?? { hosts: [], datasets: [], documentTypes: [] };
  const hostNamed = (w: string) => vocab.hosts.find((h) => h.toLowerCase() === w);
  const datasetNamed = (w: string) => {
    const synonyms: Record<string, string> = { authentication: 'auth', login: 'auth', logins: 'auth' };
    return vocab.datasets.find((d) => d.toLowerCase() === w) ?? vocab.datasets.find((d) => d === synonyms[w]);
  };
  let negate = false;
  const add = (filter: Filter, description: string) => {
    const negated = description.startsWith('with ') ? `without ${description.slice(5)}` : `not ${description}`;
    state.parts.push(negate ? { filter: { op: 'not', filter }, text: negated } : { filter, text: description });
    negate = false;
  };
  const unknownUser = (what: string) => state.problems.push(`There is no user '${what}' in the directory. Name them by user id (user 1087), login (y.larsen) or full name.`);
  const addUsers = (ids: string[], description: string) => {
    state.userIds.push(...ids);
    add(ids.length === 1 ? { op: 'eq', field: 'user.id', value: ids[0]! } : { op: 'in', field: 'user.id', values: ids }, description);
  };
  /** `user 1087`; with the name when the question named the person some other way, to show how it was read. */
  const person = (userId: string, named?: string) => {
    const p = ctx.directory?.byUserId(userId);
    return p && named ? `user ${userId} (${named})` : `user ${userId}`;
  };

  /** A user at the reader: a number, a login, a full name, or me. */
  const readUser = (explicit: boolean): boolean => {
    const t = r.peek();
    if (!t) return false;
    if (t.lower === 'me' || t.lower === 'myself') {
      r.i++;
      if (!ctx.askerUserId) {
        state.problems.push("I do not know who 'me' is here; name the user (user 1087).");
        return true;
      }
      addUsers([ctx.askerUserId], `for ${person(ctx.askerUserId)}`);
      return true;
    }
    if (t.kind === 'number') {
      r.i++;
      if (ctx.directory && !ctx.directory.byUserId(t.text)) state.notes.push(`User ${t.text} is not in the directory.`);
      addUsers([t.text], `for ${person(t.text)}`);
      return true;
    }
    if (t.kind === 'word' || t.kind === 'phrase') {
      const login = ctx.directory?.byLogin(t.text.replace(/'s$/i, ''));
      if (login) {
        r.i++;
        addUsers([login.userId], `for ${person(login.userId, login.login)}`);
        return true;
      }
      const name = t.kind === 'phrase' ? readName(tokenizeQuestion(t.text), 0, ctx.directory) : readName(r.tokens, r.i, ctx.directory);
      if (name && (t.kind === 'word' || name.used === tokenizeQuestion(t.text).length)) {
        r.i += t.kind === 'phrase' ? 1 : name.used;
        if (name.ids.length > 1) {
          state.problems.push(
            `More than one person is called ${name.name}: ${name.ids.map((id) => `user ${id} (${ctx.directory!.byUserId(id)!.login})`).join(', ')}. Which one?`,
          );
          return true;
        }
        addUsers(name.ids, `for ${person(name.ids[0]!, name.name)}`);
        return true;
      }
      if (explicit) {
        r.i++;
        unknownUser(t.text);
        return true;
      }
    }
    return false;
  };

  while (r.i < tokens.length) {
    const t = r.peek()!;
    const w = t.lower;
    const start = r.i;

    if (t.kind === 'sep') {
      r.i++;
      continue;
    }

    // Negation applies to the next filter.
    if (NEGATIONS.has(w) && !(w === 'not' && r.word(1) === 'found')) {
      if (w === 'but' && r.word(1) !== 'not') {
        r.i++;
        continue;
      }
      r.i += w === 'but' ? 2 : 1;
      if (r.word() === 'from' || r.word() === 'on' || r.word() === 'for' || r.word() === 'with') r.i++;
      negate = true;
      continue;
    }

    // Shapes.
    if ((w === 'how' && (r.word(1) === 'many' || r.word(1) === 'often')) || (w === 'number' && r.word(1) === 'of') || (w === 'count' && r.word(1) === 'of')) {
      state.shape ??= 'count';
      r.i += 2;
      continue;
    }
    if (w === 'count' || w === 'total' || w === 'tally') {
      state.shape ??= 'count';
      r.i++;
      continue;
    }
    if (w === 'top' || w === 'most') {
      r.i++;
      if (w === 'most' && ['frequent', 'common', 'often'].includes(r.word())) r.i++;
      let n = 10;
      if (r.peek()?.kind === 'number') {
        n = Number(r.peek()!.text);
        r.i++;
        if (n < 1 || n > 100) {
          state.problems.push(`'top ${n}': ask for the top 1 to 100.`);
          continue;
        }
      }
      state.top = n;
      const pair = GROUP_PAIRS[`${r.word()} ${r.word(1)}`];
      if (pair) {
        state.shape = { group: pair.field, text: pair.text };
        r.i += 2;
        continue;
      }
      const group = GROUP_WORDS[r.word()];
      if (group && !LEVEL_WORDS[r.word()]) {
        state.shape = { group: group.field, text: group.text };
        r.i++;
      }
      continue;
    }
    if (w === 'per' || w === 'by' || w === 'each' || (w === 'for' && r.word(1) === 'each') || w === 'grouped' || w === 'group' || (w === 'broken' && r.word(1) === 'down')) {
      let j = 1;
      if (w === 'for') j = 2;
      if (w === 'grouped' || w === 'group' || w === 'broken') j = r.word(1) === 'by' ? 2 : r.word(2) === 'by' ? 3 : 1;
      const next = r.word(j);
      if (next === 'hour' || next === 'day') {
        state.shape = { histogram: next };
        r.i += j + 1;
        continue;
      }
      const pair = GROUP_PAIRS[`${next} ${r.word(j + 1)}`];
      if (pair) {
        state.shape = { group: pair.field, text: pair.text };
        r.i += j + 2;
        continue;
      }
      const group = GROUP_WORDS[next];
      if (group && !(w === 'by' && next === 'user' && r.peek(j + 1)?.kind === 'number')) {
        state.shape = { group: group.field, text: group.text };
        r.i += j + 1;
        continue;
      }
      if (w === 'each' || w === 'per' || w === 'grouped' || w === 'group') {
        state.problems.push(`I cannot group by '${r.peek(j)?.text ?? ''}'. Group by user, node, status, endpoint, message, level, log, document, client IP, or per hour / per day.`);
        r.i += j + 1;
        continue;
      }
    }
    if (w === 'hourly' || w === 'daily') {
      state.shape = { histogram: w === 'hourly' ? 'hour' : 'day' };
      r.i++;
      continue;
    }

    // Time.
    try {
      const time = readTime(tokens, r.i, now);
      if (time) {
        state.time.push(time.part);
        r.i += time.used;
        continue;
      }
    } catch (err) {
      if (!(err instanceof TimeError)) throw err;
      state.problems.push(err.message);
      r.i += 2;
      continue;
    }

    // What kind of events.
    if ((w === 'failed' || w === 'unsuccessful') && (r.word(1) === 'logins' || r.word(1) === 'login') || (w === 'login' && r.word(1) === 'failures')) {
      r.i += r.word(2) === 'attempts' ? 3 : 2;
      const auth = datasetNamed('auth');
      if (auth) add({ op: 'eq', field: 'event.dataset', value: auth }, 'in the auth log');
      add({ op: 'prefix', field: 'message', value: 'Login failed' }, '');
      state.parts[state.parts.length - 1]!.text = '';
      state.subject = 'failed logins';
      continue;
    }
    if ((w === 'successful' && (r.word(1) === 'logins' || r.word(1) === 'login')) || (w === 'login' && r.word(1) === 'successes')) {
      r.i += 2;
      const auth = datasetNamed('auth');
      if (auth) add({ op: 'eq', field: 'event.dataset', value: auth }, 'in the auth log');
      add({ op: 'prefix', field: 'message', value: 'Login succeeded' }, '');
      state.parts[state.parts.length - 1]!.text = '';
      state.subject = 'successful logins';
      continue;
    }
    if (w === 'all' && ['logs', 'events', 'entries'].includes(r.word(1))) {
      state.subject = 'all events';
      r.i += 2;
      continue;
    }
    if (LEVEL_WORDS[w] && !(negate && w === 'error')) {
      const level = LEVEL_WORDS[w]!;
      r.i++;
      if (negate) {
        add(level.levels.length === 1 ? { op: 'eq', field: 'log.level', value: level.levels[0]! } : { op: 'in', field: 'log.level', values: level.levels }, level.text);
      } else {
        state.levels = state.levels
          ? { levels: uniq([...state.levels.levels, ...level.levels]), text: `${state.levels.text} and ${level.text}` }
          : level;
      }
      continue;
    }
    if (w === 'went' && r.word(1) === 'wrong') {
      state.levels ??= LEVEL_WORDS.problems!;
      r.i += 2;
      continue;
    }

    // Statuses.
    const phrase = STATUS_PHRASES.find(([words]) => words.every((x, k) => r.word(k) === x));
    if (phrase) {
      r.i += phrase[0].length;
      add(phrase[1], `with ${phrase[2]}`);
      continue;
    }
    if (STATUS_WORDS[w]) {
      r.i++;
      add(STATUS_WORDS[w]!.filter, `with ${STATUS_WORDS[w]!.text}`);
      continue;
    }
    if ((w === 'status' || w === 'code' || w === 'http') && (r.peek(1)?.kind === 'number' || (r.word(1) === 'code' && r.peek(2)?.kind === 'number'))) {
      r.i += r.word(1) === 'code' ? 2 : 1;
      const n = Number(r.peek()!.text);
      r.i++;
      if (n < 100 || n > 599) state.problems.push(`${n} is not an HTTP status (100–599).`);
      else add({ op: 'eq', field: 'http.response.status_code', value: n }, `with status ${n}`);
      continue;
    }
    const statusNumber = /^([1-5]\d\d)s?$/.exec(w);
    if ((t.kind === 'number' || t.kind === 'word') && statusNumber) {
      r.i++;
      add({ op: 'eq', field: 'http.response.status_code', value: Number(statusNumber[1]) }, `with status ${statusNumber[1]}`);
      continue;
    }

    // People.
    if (w === 'user' || w === 'users' || w === 'login' || w === 'username' || w === 'userid') {
      r.i++;
      if (r.word() === 'id') r.i++;
      if (!readUser(true)) state.problems.push(`'${t.text}' needs to be followed by who: user 1087, user y.larsen or user "Nils Larsen".`);
      continue;
    }
    if (w === 'my' || w === 'mine' || ((w === 'for' || w === 'to' || w === 'with') && (r.word(1) === 'me' || r.word(1) === 'myself'))) {
      r.i += w === 'my' || w === 'mine' ? 0 : 1;
      if (w === 'my' || w === 'mine') {
        r.i++;
        if (!ctx.askerUserId) state.problems.push("I do not know who 'my' is here; name the user (user 1087).");
        else addUsers([ctx.askerUserId], `for ${person(ctx.askerUserId)}`);
      } else readUser(true);
      continue;
    }

    // Records.
    if (['document', 'documents', 'doc', 'docs'].includes(w) && r.peek(1) && ['number', 'word'].includes(r.peek(1)!.kind) && !GROUP_WORDS[r.word(1)] && r.word(1) !== 'type') {
      r.i += 2;
      add({ op: 'eq', field: 'document.id', value: tokens[r.i - 1]!.text }, `on document ${tokens[r.i - 1]!.text}`);
      continue;
    }
    if (['entity', 'entities'].includes(w) && r.peek(1)?.kind === 'number') {
      r.i += 2;
      add({ op: 'eq', field: 'entity.id', value: tokens[r.i - 1]!.text }, `on entity ${tokens[r.i - 1]!.text}`);
      continue;
    }
    if (['param', 'parameter', 'params', 'parameters'].includes(w) && r.peek(1)?.kind === 'word' && /^[A-Za-z0-9_$@-][A-Za-z0-9_$@.-]{0,99}$/.test(r.peek(1)!.text)) {
      const name = r.peek(1)!.text;
      r.i += 2;
      add({ op: 'exists', field: `params.${name}` }, `with parameter ${name}`);
      continue;
    }
    if (w === 'request' && r.word(1) === 'id' && r.peek(2)) {
      r.i += 3;
      add({ op: 'eq', field: 'http.request.id', value: tokens[r.i - 1]!.text }, `of request ${tokens[r.i - 1]!.text}`);
      continue;
    }
    const docType = vocab.documentTypes.find((dt) => {
      const words = dt.toLowerCase().split(/\s+/);
      return words.every((x, k) => r.word(k) === x);
    });
    if (docType) {
      r.i += docType.split(/\s+/).length;
      if (['document', 'documents'].includes(r.word())) r.i++;
      add({ op: 'eq', field: 'document.type', value: docType }, `on ${docType} documents`);
      continue;
    }

    // Where.
    if (t.kind === 'ip' || (['ip', 'client', 'address', 'addresses', 'clients'].includes(w) && r.peek(1)?.kind === 'ip')) {
      if (t.kind !== 'ip') r.i++;
      const ip = r.peek()!.text;
      r.i++;
      add({ op: 'cidr', field: 'source.ip', value: ip }, `from ${ip}`);
      continue;
    }
    if (['node', 'host', 'server', 'machine'].includes(w) && r.peek(1) && ['word', 'number'].includes(r.peek(1)!.kind) && !GROUP_WORDS[r.word(1)]) {
      const name = r.peek(1)!.text;
      r.i += 2;
      const known = hostNamed(name.toLowerCase());
      if (known) add({ op: 'eq', field: 'host.name', value: known }, `on ${known}`);
      else add({ op: 'eq', field: 'host.name', value: name, ...(/^[\x20-\x7e]+$/.test(name) ? { caseInsensitive: true } : {}) }, `on node ${name}`);
      continue;
    }
    if (hostNamed(w)) {
      r.i++;
      add({ op: 'eq', field: 'host.name', value: hostNamed(w)! }, `on ${hostNamed(w)}`);
      continue;
    }
    if (t.kind === 'path' || (['endpoint', 'path', 'url', 'route'].includes(w) && r.peek(1)?.kind === 'path')) {
      if (t.kind !== 'path') r.i++;
      const path = r.peek()!.text;
      r.i++;
      if (/[*?]/.test(path)) add({ op: 'wildcard', field: 'url.path', value: path }, `on ${path}`);
      else {
        const base = path.length > 1 ? path.replace(/\/+$/, '') : path;
        add(
          { op: 'any', filters: [{ op: 'eq', field: 'url.path', value: base }, { op: 'prefix', field: 'url.path', value: base === '/' ? '/' : `${base}/` }] },
          `on ${base}`,
        );
      }
      continue;
    }
    if (datasetNamed(w)) {
      const ds = datasetNamed(w)!;
      r.i++;
      if (['log', 'logs', 'service', 'events'].includes(r.word())) r.i++;
      add({ op: 'eq', field: 'event.dataset', value: ds }, `in the ${ds} log`);
      continue;
    }

    // Message text.
    if (t.kind === 'phrase') {
      r.i++;
      const words = tokenize(t.text);
      if (!t.text.trim() || words.length === 0) state.problems.push(`The quoted text "${t.text}" has no words to search for.`);
      else if (words.length > 50) state.problems.push('The quoted text is too long to search for (at most 50 words).');
      else add({ op: 'phrase', field: 'message', value: t.text }, `with "${t.text}"`);
      continue;
    }
    if (['saying', 'containing', 'contains', 'matching', 'mentioning', 'text', 'message'].includes(w) && r.peek(1)?.kind === 'phrase') {
      r.i++;
      continue;
    }

    // A person named without 'user': "for y.larsen", "Nils Larsen's errors", "for 1087".
    if (w === 'for' || w === 'of' || w === 'by' || w === 'from') {
      const nextToken = r.peek(1);
      if (nextToken && nextToken.kind === 'number' && w === 'for') {
        r.i++;
        readUser(true);
        continue;
      }
      if (nextToken && (nextToken.kind === 'word' || nextToken.kind === 'phrase')) {
        const saved = r.i;
        r.i++;
        if (readUser(false)) continue;
        // "for x.y" or "for 'Someone'": clearly a person, and nobody by that name.
        if (w === 'for' && (nextToken.kind === 'phrase' || /^[\p{L}]+[._][\p{L}]+\d*$/u.test(nextToken.text))) {
          r.i++;
          unknownUser(nextToken.text);
          continue;
        }
        const meaningful = FILLER.has(nextToken.lower) || LEVEL_WORDS[nextToken.lower] || GROUP_WORDS[nextToken.lower] || STATUS_WORDS[nextToken.lower] ||
          hostNamed(nextToken.lower) || datasetNamed(nextToken.lower) || KEYWORDS.has(nextToken.lower) || readTimeSafe(tokens, r.i, now);
        if (w === 'for' && !meaningful) {
          r.i++;
          state.problems.push(`There is no user, node or log called '${nextToken.text}'. Name a user by id (user 1087), login (y.larsen) or full name.`);
          continue;
        }
        r.i = saved;
      }
    }
    if ((t.kind === 'word' && /[.@]/.test(t.text)) || t.kind === 'word') {
      if (readUser(false)) continue;
    }

    if (FILLER.has(w)) {
      r.i++;
      continue;
    }

    if (t.kind === 'number') {
      state.problems.push(`What is ${t.text}? Say user ${t.text}, document ${t.text}, entity ${t.text} or status ${t.text}.`);
    } else {
      state.problems.push(`I did not understand '${t.text}'.`);
    }
    r.i = Math.max(r.i, start) + 1;
  }
  if (negate) state.problems.push('Something after "not"/"except" is missing: what should be left out?');

  let range: { from: DateTime; to: DateTime } | undefined;
  try {
    range = resolveTime(state.time, now);
  } catch (err) {
    if (!(err instanceof TimeError)) throw err;
    state.problems.push(err.message);
  }
  if (state.problems.length) return fail(uniq(state.problems));
  return build(question, state, range, ctx);
}

function build(question: string, state: ParseState, range: { from: DateTime; to: DateTime } | undefined, ctx: ParseContext): Understood {
  const limit = Math.min(Math.max(ctx.limit ?? 50, 0), MAX_LIST_LIMIT);
  const filters: Filter[] = [];
  if (state.levels) {
    const levels = state.levels.levels;
    filters.push(levels.length === 1 ? { op: 'eq', field: 'log.level', value: levels[0]! } : { op: 'in', field: 'log.level', values: levels });
  }
  filters.push(...state.parts.map((p) => p.filter));

  let shape: Shape;
  let prefix = '';
  let suffix = '';
  if (state.top !== undefined) {
    const group = typeof state.shape === 'object' && 'group' in state.shape ? state.shape : { group: 'message' as GroupField, text: 'message' };
    shape = { kind: 'terms', field: group.group, size: state.top };
    prefix = `top ${state.top} `;
    suffix = ` by ${group.text}`;
  } else if (state.shape === 'count') {
    shape = { kind: 'count' };
    prefix = 'count of ';
  } else if (state.shape && 'group' in state.shape) {
    shape = { kind: 'terms', field: state.shape.group, size: Math.min(Math.max(limit, 1), MAX_TERMS_SIZE) };
    prefix = 'count of ';
    suffix = ` by ${state.shape.text}`;
  } else if (state.shape && 'histogram' in state.shape) {
    shape = { kind: 'histogram', interval: state.shape.histogram, timeZone: ctx.timeZone };
    prefix = 'count of ';
    suffix = ` per ${state.shape.histogram}`;
  } else {
    shape = { kind: 'list', limit };
  }
  const query: LogQuery = { filters, shape };
  if (range) query.time = { gte: range.from.toUTC().toISO()!, lt: range.to.toUTC().toISO()! };

  const subject = state.subject ?? state.levels?.text ?? (state.parts.length || range ? 'events' : 'all events');
  const details = state.parts.map((p) => p.text).filter(Boolean);
  const when = range ? describeRange(range.from, range.to, ctx.timeZone) : 'all time';
  const interpretation = `${prefix}${subject}${details.length ? ' ' + details.join(', ') : ''}${suffix}, ${when}`;
  return { ok: true, question, query, interpretation, userIds: uniq(state.userIds), notes: uniq(state.notes) };
}
