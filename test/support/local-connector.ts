import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A local stand-in for the Bot Framework connector, for what a bot sends proactively: create a
 * 1:1 conversation, send an activity, update it. It enforces Teams' limits with its own sliding
 * windows (more than 7 activities in any 1 s per conversation, or more than 50 in any 1 s
 * overall, get 429 with Retry-After in seconds), can inject faults (a seeded random fraction of
 * 429s and 503s, or "the next N requests fail"), and records every accepted activity so tests
 * can check exactly-once. No authentication: it only ever listens on 127.0.0.1.
 */

export interface LocalConnectorOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Seed of the fault injection's random numbers. Default 1. */
  seed?: number;
  /** Fraction of requests answered 429 at random (with Retry-After). Default 0. */
  rate429?: number;
  /** Fraction of requests answered 503 at random. Default 0. */
  rate503?: number;
  /** Retry-After (seconds) of injected 429s. Default 1. */
  retryAfterSeconds?: number;
  /** Activities per conversation in any 1 s. Default 7 (Teams). */
  perConversationPerSecond?: number;
  /** Activities overall in any 1 s. Default 50 (Teams, per app per tenant). */
  perAppPerSecond?: number;
}

/** An activity the connector accepted. */
export interface ReceivedActivity {
  kind: 'send' | 'update';
  conversationId: string;
  activityId: string;
  text?: string;
  attachments?: unknown[];
  /** The request body as sent. */
  activity: Record<string, unknown>;
  /** Epoch ms (sub-ms precision) when it was accepted. */
  time: number;
}

/** Counters by what the connector answered. */
export interface ConnectorStats {
  requests: number;
  accepted: number;
  conversationsCreated: number;
  /** 429s because a sliding window was full: the sender went over Teams' limits. */
  limited: number;
  /** Faults injected at random or by `failNext`, by status ('reset' = connection destroyed). */
  injected: Record<string, number>;
}

/** A fault for `failNext`: an HTTP status, or 'reset' to drop the connection without an answer. */
export type Fault = number | 'reset';

export interface LocalConnector {
  /** `http://127.0.0.1:<port>`: the service URL. */
  url: string;
  received: ReceivedActivity[];
  stats: ConnectorStats;
  /** Member id → conversation id of the 1:1 chats created. */
  conversations: Map<string, string>;
  /** The next `n` requests fail with `fault` (default 503) before anything else is decided. */
  failNext(n: number, fault?: Fault): void;
  stop(): Promise<void>;
}

/** mulberry32: small, seedable, good enough to pick faults reproducibly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Accepted-activity times in the last second, oldest first. */
class Window {
  private readonly times: number[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  /** Ms until the window has room, 0 if it has room now. */
  fullFor(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - 1000) this.head++;
    if (this.head > 1024) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    const count = this.times.length - this.head;
    return count < this.limit ? 0 : this.times[this.times.length - this.limit]! + 1000 - now;
  }

  add(now: number): void {
    this.times.push(now);
  }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Starts the connector on 127.0.0.1. */
export async function startLocalConnector(options: LocalConnectorOptions = {}): Promise<LocalConnector> {
  const random = seeded(options.seed ?? 1);
  const rate429 = options.rate429 ?? 0;
  const rate503 = options.rate503 ?? 0;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const perConversation = options.perConversationPerSecond ?? 7;
  const overall = new Window(options.perAppPerSecond ?? 50);
  const windows = new Map<string, Window>();
  const received: ReceivedActivity[] = [];
  const conversations = new Map<string, string>();
  const activities = new Map<string, ReceivedActivity>();
  const stats: ConnectorStats = { requests: 0, accepted: 0, conversationsCreated: 0, limited: 0, injected: {} };
  const queuedFaults: Fault[] = [];
  let nextActivity = 1;
  // Monotonic, sub-millisecond: the windows must not be fooled by wall-clock steps.
  const now = () => performance.timeOrigin + performance.now();

  /** Decides an injected fault for this request, if any; answers it and returns true. */
  const inject = (req: IncomingMessage, res: ServerResponse): boolean => {
    let fault: Fault | undefined = queuedFaults.shift();
    if (fault === undefined) {
      const r = random();
      if (r < rate429) fault = 429;
      else if (r < rate429 + rate503) fault = 503;
    }
    if (fault === undefined) return false;
    stats.injected[String(fault)] = (stats.injected[String(fault)] ?? 0) + 1;
    if (fault === 'reset') req.socket.destroy();
    else if (fault === 429) json(res, 429, { error: { code: 'TooManyRequests', message: 'injected' } }, { 'retry-after': String(retryAfter) });
    else json(res, fault, { error: { code: 'Injected', message: `injected ${fault}` } });
    return true;
  };

  /** Applies the sliding windows; answers 429 and returns false when either is full. */
  const admit = (conversationId: string, res: ServerResponse, t: number): boolean => {
    let window = windows.get(conversationId);
    if (!window) windows.set(conversationId, (window = new Window(perConversation)));
    const wait = Math.max(window.fullFor(t), overall.fullFor(t));
    if (wait <= 0) return true;
    stats.limited++;
    json(res, 429, { error: { code: 'TooManyRequests', message: 'rate limit exceeded' } }, { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) });
    return false;
  };

  const accept = (kind: ReceivedActivity['kind'], conversationId: string, activityId: string, activity: Record<string, unknown>, t: number) => {
    windows.get(conversationId)!.add(t);
    overall.add(t);
    const record: ReceivedActivity = { kind, conversationId, activityId, activity, time: t };
    if (typeof activity.text === 'string') record.text = activity.text;
    if (Array.isArray(activity.attachments)) record.attachments = activity.attachments;
    received.push(record);
    stats.accepted++;
    return record;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (path[0] !== 'v3' || path[1] !== 'conversations') return json(res, 404, { error: { code: 'NotFound', message: 'no such route' } });
    if (inject(req, res)) return;
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return json(res, 400, { error: { code: 'BadArgument', message: 'body is not JSON' } });
    }
    if (!isObject(body)) return json(res, 400, { error: { code: 'BadArgument', message: 'body must be an object' } });

    if (req.method === 'POST' && path.length === 2) {
      const members = body.members;
      const member = Array.isArray(members) && isObject(members[0]) ? members[0].id : undefined;
      if (typeof member !== 'string' || !member) return json(res, 400, { error: { code: 'BadArgument', message: 'members[0].id is required' } });
      const tenant = typeof body.tenantId === 'string' ? body.tenantId : isObject(body.channelData) && isObject(body.channelData.tenant) ? body.channelData.tenant.id : '';
      const key = `${String(tenant)}|${member}`;
      let id = conversations.get(key);
      if (!id) {
        id = `a:${Buffer.from(key).toString('base64url')}`;
        conversations.set(key, id);
        stats.conversationsCreated++;
      }
      return json(res, 201, { id });
    }
    const conversationId = path[2];
    if (!conversationId || path[3] !== 'activities') return json(res, 404, { error: { code: 'NotFound', message: 'no such route' } });
    const t = now();
    // A reply (POST …/activities/<replyToId>) is a send too: botbuilder replies to the continuation event.
    if (req.method === 'POST' && (path.length === 4 || path.length === 5)) {
      if (!admit(conversationId, res, t)) return;
      const activityId = `act-${nextActivity++}`;
      activities.set(activityId, accept('send', conversationId, activityId, body, t));
      return json(res, 201, { id: activityId });
    }
    if (req.method === 'PUT' && path.length === 5) {
      const activityId = path[4]!;
      const original = activities.get(activityId);
      if (!original || original.conversationId !== conversationId) return json(res, 404, { error: { code: 'ActivityNotFound', message: 'no such activity' } });
      if (!admit(conversationId, res, t)) return;
      accept('update', conversationId, activityId, body, t);
      return json(res, 200, { id: activityId });
    }
    return json(res, 405, { error: { code: 'MethodNotAllowed', message: `${req.method ?? ''} not supported here` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, { error: { code: 'InternalError', message: err.message } });
      else res.destroy();
    });
  });
  // Longer than any client's idle keep-alive, so the server never closes a socket a request is racing onto.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stats,
    conversations,
    failNext(n: number, fault: Fault = 503) {
      for (let i = 0; i < n; i++) queuedFaults.push(fault);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
