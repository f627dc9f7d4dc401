/**
 * Test driver for the Teams emulator (Microsoft 365 Agents Playground) without a browser: its
 * HTTP API plays the person, its websockets report what the bot sent and when the bot finished a
 * turn. Start the emulator with `startPlayground` (bot/local/playground.ts).
 *
 * Facts this relies on (measured with 0.2.28):
 * - the conversation stream broadcasts every bot message to all connected clients and buffers
 *   events while none is connected, replaying them to the next one: connect before acting;
 * - a bot reply with text and a card arrives as two messages (`N` and `N-<hex>`);
 * - `updateActivity` arrives as `updateMessage` with the same `messageId`; the updated card of an
 *   Action.Execute comes back only in the HTTP response of the invoke, never on the stream;
 * - user messages always come from the configured current user: the `from` id of
 *   `POST .../messages` is checked for membership and then ignored. {@link EmulatorClient.sendAs}
 *   (a custom activity) and {@link EmulatorClient.invoke} do act as another user;
 * - installation, messages and custom activities are answered before the bot is called; the log
 *   stream reports each activity once the bot has answered it ({@link EmulatorClient.waitForTurn}).
 */
import WebSocket from 'ws';

/** The parsed JSON of an Adaptive Card. */
export interface AdaptiveCard {
  type: string;
  version?: string;
  body?: unknown[];
  actions?: unknown[];
  [key: string]: unknown;
}

/** A mock user as the emulator reports it. Note the emulator's spelling `userPrincipleName`. */
export interface EmulatorUser {
  id: string;
  name: string;
  aadObjectId: string;
  userPrincipleName?: string;
  givenName?: string;
  surname?: string;
  email?: string;
}

/** What `GET /_internal/v1/config` says, reduced to the parts tests need. */
export interface EmulatorConfig {
  tenantId: string;
  bot: { id: string; name: string };
  currentUser: EmulatorUser;
  /** The other users; the current user is not among them. */
  users: EmulatorUser[];
  personalChat: { id: string };
  groupChat: { id: string; name: string };
  /** `channels[0]` is General, whose id is the team id. */
  team: { id: string; name: string; channels: Array<{ id: string; name: string }> };
}

/** A message the bot created or updated, as the conversation stream reported it. */
export interface BotMessage {
  /** `updateMessage` carries the new content of an earlier `messageId`. */
  action: 'createMessage' | 'updateMessage';
  /** Where it was posted; in a channel this is the thread, `<channel id>;messageid=<post id>`. */
  conversationId: string;
  /** The id to use as `replyToId` when acting on a card of this message. */
  messageId: string;
  timestamp: number;
  from: { id: string; name?: string };
  text?: string;
  attachments: Array<{ contentType: string; content: unknown }>;
  /** The Adaptive Card attachments, parsed. */
  cards: AdaptiveCard[];
  /** Arrival order on this client, from 0; compare with {@link EmulatorClient.mark}. */
  seq: number;
}

/** An activity the emulator delivered to the bot, reported once the bot answered it. */
export interface BotTurn {
  /** `message`, `invoke`, `installationUpdate`, `conversationUpdate`, ... */
  activityType: string;
  activityId?: string;
  conversationId: string;
  /** The activity as sent to the bot. */
  request: unknown;
  /** The bot's HTTP status, or undefined if the emulator recorded none (the bot was unreachable). */
  status?: number;
  response?: unknown;
  seq: number;
}

/** The body of the emulator's answer to an invoke: the bot's invoke response without its status. */
export interface InvokeResult {
  type?: string;
  value?: unknown;
  /** `value`, when `type` says it is an Adaptive Card (the refreshed card of an Action.Execute). */
  card?: AdaptiveCard;
}

/** Kinds of `GET /_internal/v1/customActivities/template`. */
export type CustomActivityType =
  | 'install' | 'uninstall' | 'userAdded' | 'userRemoved' | 'botAdded' | 'botRemoved'
  | 'channelCreated' | 'channelRenamed' | 'channelDeleted' | 'teamRenamed' | 'teamDeleted'
  | 'sendEmail' | 'mentionInWord';

/** An activity for the bot; ids, serviceUrl and channel data come from the emulator's templates. */
export type ActivityJson = Record<string, unknown> & { id?: string; type?: string };

const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
const DEFAULT_TIMEOUT_MS = 10_000;
const CONVERSATION_STREAM = '/_ws_conversation/v1/conversations/stream';
const LOG_STREAM = '/_ws/log/stream';

interface Waiter<T> {
  accept(item: T): boolean;
  reject(error: Error): void;
}

/**
 * One test's connection to a running emulator. Call {@link connect} before anything that makes the
 * bot talk, and {@link close} at the end.
 */
export class EmulatorClient {
  private readonly baseUrl: string;
  private readonly received: BotMessage[] = [];
  private readonly turns: BotTurn[] = [];
  private readonly rawEvents: unknown[] = [];
  private readonly messageWaiters = new Set<Waiter<BotMessage>>();
  private readonly turnWaiters = new Set<Waiter<BotTurn>>();
  private sockets: WebSocket[] = [];
  private floor = 0;
  private closedReason: string | undefined;
  private cachedConfig: EmulatorConfig | undefined;

  /** @param baseUrl the emulator's base URL, e.g. `http://127.0.0.1:56150` (`RunningPlayground.url`). */
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Opens the conversation and log streams; resolves once both are open. Everything they carry is kept. */
  async connect(): Promise<void> {
    if (this.sockets.length > 0) throw new Error('EmulatorClient.connect() was already called');
    this.closedReason = undefined;
    const ws = this.baseUrl.replace(/^http/, 'ws');
    this.sockets = [
      await openSocket(`${ws}${CONVERSATION_STREAM}`, (data) => this.onConversationEvent(data), (why) => this.onSocketClosed(why)),
      await openSocket(`${ws}${LOG_STREAM}`, (data) => this.onLogEvent(data), (why) => this.onSocketClosed(why)),
    ];
  }

  /** Closes the streams; pending waits fail. */
  async close(): Promise<void> {
    const sockets = this.sockets;
    this.sockets = [];
    this.onSocketClosed('the client was closed');
    await Promise.all(sockets.map((socket) => new Promise<void>((done) => {
      if (socket.readyState === WebSocket.CLOSED) return done();
      socket.once('close', () => done());
      socket.close();
    })));
  }

  /** Mock tenant, users, chats and team. Waits (inside the emulator, up to 15 s) until the bot endpoint answers. */
  async config(): Promise<EmulatorConfig> {
    if (this.cachedConfig) return this.cachedConfig;
    const raw = await this.request<RawConfigResponse>('GET', '/_internal/v1/config');
    const c = raw.config;
    const groupChat = c.groupChats?.[0];
    const team = c.teams?.[0];
    if (!c.personalChat || !groupChat || !team || !c.bot || !c.currentUser) {
      throw new Error(`Unexpected emulator config: ${JSON.stringify(raw).slice(0, 500)}`);
    }
    this.cachedConfig = {
      tenantId: c.tenantId,
      bot: c.bot,
      currentUser: c.currentUser,
      users: c.users ?? [],
      personalChat: { id: c.personalChat.id },
      groupChat: { id: groupChat.id, name: groupChat.name },
      team: { id: team.id, name: team.name, channels: team.channels ?? [] },
    };
    return this.cachedConfig;
  }

  /**
   * Installs the app in a conversation: the bot gets `installationUpdate` (add) and then, in
   * Teams, `conversationUpdate` (membersAdded). Resolves once the bot answered the installation,
   * so a conversation reference stored on install is there.
   */
  async install(conversationId: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<BotTurn> {
    const since = this.turns.length;
    await this.request('POST', `/_debug/conversation/${encodeURIComponent(conversationId)}/installation`, {});
    return this.waitForTurn((t) => t.activityType === 'installationUpdate' && t.conversationId === conversationId, timeoutMs, since);
  }

  /**
   * Posts a message as the current user (the emulator ignores `fromUserId` beyond checking that
   * the user is a member; use {@link sendAs} to be someone else). In group chats and channels the
   * bot only sees messages that mention it: `mentionBot` (default: true outside the personal chat)
   * prefixes `<at>bot name</at>` and adds the mention.
   *
   * @returns the emulator's ids; `conversationId` is where the bot's replies go (a new thread in a channel).
   */
  async send(conversationId: string, fromUserId: string, text: string, options: { mentionBot?: boolean } = {}): Promise<{ messageId: string; conversationId: string }> {
    const config = await this.config();
    const mention = options.mentionBot ?? conversationId !== config.personalChat.id;
    const body: Record<string, unknown> = { from: { id: fromUserId }, text, textFormat: 'plain' };
    if (mention) {
      const at = `<at>${config.bot.name}</at>`;
      body.text = text.includes(at) ? text : `${at} ${text}`;
      body.mentions = [{ mentioned: { id: config.bot.id }, text: at }];
    }
    const result = await this.request<{ messageId: string; postConversationId?: string }>(
      'POST', `/_conversation/v1/conversations/${encodeURIComponent(conversationId)}/messages`, body);
    return { messageId: result.messageId, conversationId: result.postConversationId ?? conversationId };
  }

  /**
   * Delivers a message from any member, as a custom activity. Unlike {@link send} the emulator
   * does not show it in its UI, and it returns before the bot is called: wait for the reply or
   * for {@link waitForTurn}.
   *
   * @returns the activity id.
   */
  async sendAs(conversationId: string, user: { id: string; name?: string; aadObjectId?: string }, text: string, options: { mentionBot?: boolean } = {}): Promise<string> {
    const config = await this.config();
    const mention = options.mentionBot ?? conversationId !== config.personalChat.id;
    const template = await this.activityTemplate(conversationId);
    const known = [config.currentUser, ...config.users].find((u) => u.id === user.id);
    const activity: ActivityJson = {
      ...template,
      type: 'message',
      text,
      textFormat: 'plain',
      from: { id: user.id, name: user.name ?? known?.name, aadObjectId: user.aadObjectId ?? known?.aadObjectId },
    };
    if (mention) {
      const at = `<at>${config.bot.name}</at>`;
      activity.text = text.includes(at) ? text : `${at} ${text}`;
      activity.entities = [{ type: 'mention', mentioned: { id: config.bot.id, name: config.bot.name }, text: at }];
    }
    await this.postActivity(activity);
    return String(activity.id);
  }

  /**
   * Presses an Action.Execute button of a card: the bot gets `adaptiveCard/action`.
   * `fromUserId` is honoured (any member can act).
   *
   * @param replyToId the `messageId` of the message holding the card (the emulator checks it exists).
   * @returns the bot's invoke response body, with the refreshed card in `card`.
   * @throws Error with the emulator's answer when it is not 200 (unknown message, bot down, ...).
   */
  async invoke(conversationId: string, fromUserId: string, replyToId: string, action: { verb: string; data: unknown }): Promise<InvokeResult> {
    const result = await this.request<InvokeResult | ''>('POST', '/_conversation/v1/invoke', {
      name: 'adaptiveCard/action',
      from: { id: fromUserId },
      conversation: { id: conversationId },
      replyToId,
      value: { action: { type: 'Action.Execute', verb: action.verb, data: action.data } },
    });
    const body: InvokeResult = typeof result === 'object' && result !== null ? result : {};
    if (body.type === ADAPTIVE_CARD) {
      const card = parseCard(body.value);
      if (card) body.card = card;
    }
    return body;
  }

  /** Presses an Action.Submit button of a card: the bot gets a message with `value`. Returns before the bot is called. */
  async submit(conversationId: string, fromUserId: string, replyToId: string, value: Record<string, unknown>): Promise<void> {
    await this.request('POST', '/_conversation/v1/submit', {
      conversation: { id: conversationId },
      from: { id: fromUserId },
      replyToId,
      value,
    });
  }

  /** The emulator's template activity for a conversation (as the current user); without `type` a bare base activity. */
  async activityTemplate(conversationId: string, type?: CustomActivityType): Promise<ActivityJson> {
    const query = new URLSearchParams({ conversationId });
    if (type) query.set('type', type);
    return this.request<ActivityJson>('GET', `/_internal/v1/customActivities/template?${query.toString()}`);
  }

  /**
   * Sends a templated activity (install, uninstall, userAdded, ...) with `overrides` merged on
   * top (shallow), e.g. `{ from: {...} }`. Resolves once the bot answered it; the turn holds the
   * activity sent and the bot's status.
   */
  async customActivity(conversationId: string, type: CustomActivityType, overrides: Record<string, unknown> = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<BotTurn> {
    const activity: ActivityJson = { ...(await this.activityTemplate(conversationId, type)), ...overrides };
    const since = this.turns.length;
    await this.postActivity(activity);
    return this.waitForTurn((t) => t.activityId === activity.id, timeoutMs, since);
  }

  /** Sends any activity to the bot as is (`POST /_internal/v1/customActivities`). Returns before the bot is called. */
  async postActivity(activity: ActivityJson): Promise<void> {
    await this.request('POST', '/_internal/v1/customActivities', activity);
  }

  /** Makes later waits ignore what arrived so far. Returns the mark (a `seq`). */
  mark(): number {
    this.floor = this.received.length;
    return this.floor;
  }

  /**
   * The first bot message since the last {@link mark} (or {@link connect}) that matches, already
   * received or still to come. Every create and every update is a candidate in arrival order.
   *
   * @throws Error after `timeoutMs` listing what did arrive.
   */
  waitForMessage(predicate: (message: BotMessage) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<BotMessage> {
    const floor = this.floor;
    return this.waitFor(this.received, this.messageWaiters, (m) => m.seq >= floor && predicate(m), timeoutMs,
      () => `no bot message matched within ${timeoutMs} ms. Received since mark ${floor}:\n${describe(this.received.slice(floor))}`);
  }

  /** The first bot message since the mark that has a card whose text contains `text`. */
  waitForCard(text: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<BotMessage> {
    return this.waitForMessage((m) => m.cards.some((c) => cardText(c).includes(text)), timeoutMs);
  }

  /**
   * The first activity the bot answered (at or after turn number `since`, default 0) that matches.
   * Use it to know that the bot finished a turn that sends nothing back.
   */
  waitForTurn(predicate: (turn: BotTurn) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, since = 0): Promise<BotTurn> {
    return this.waitFor(this.turns, this.turnWaiters, (t) => t.seq >= since && predicate(t), timeoutMs,
      () => `the bot answered no matching activity within ${timeoutMs} ms. Answered:\n${this.turns.slice(since)
        .map((t) => `  #${t.seq} ${t.activityType} in ${t.conversationId} -> ${t.status ?? 'no answer'}`).join('\n') || '  (none)'}`);
  }

  /** Every bot message received since {@link connect}, creates and updates, in arrival order. */
  messages(): BotMessage[] {
    return [...this.received];
  }

  /** The current content of a message: its last update, or its creation. */
  latest(messageId: string): BotMessage | undefined {
    for (let i = this.received.length - 1; i >= 0; i -= 1) {
      if (this.received[i].messageId === messageId) return this.received[i];
    }
    return undefined;
  }

  /** Every activity the bot answered since {@link connect}. */
  botTurns(): BotTurn[] {
    return [...this.turns];
  }

  /** Every raw event of the conversation stream (including `typing`), for debugging. */
  events(): unknown[] {
    return [...this.rawEvents];
  }

  private waitFor<T>(items: T[], waiters: Set<Waiter<T>>, accept: (item: T) => boolean, timeoutMs: number, explain: () => string): Promise<T> {
    const found = items.find(accept);
    if (found !== undefined) return Promise.resolve(found);
    if (this.closedReason !== undefined) return Promise.reject(new Error(`Emulator stream closed (${this.closedReason}) before a match`));
    if (this.sockets.length === 0) return Promise.reject(new Error('EmulatorClient is not connected: call connect() first'));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(explain()));
      }, timeoutMs);
      const waiter: Waiter<T> = {
        accept: (item) => {
          if (!accept(item)) return false;
          clearTimeout(timer);
          resolve(item);
          return true;
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      waiters.add(waiter);
    });
  }

  private onConversationEvent(data: string): void {
    const event = parseJson(data);
    this.rawEvents.push(event ?? data);
    if (!isRecord(event)) return;
    const action = event.action;
    if (action !== 'createMessage' && action !== 'updateMessage') return;
    const m = isRecord(event.message) ? event.message : {};
    const attachments = Array.isArray(m.attachments)
      ? m.attachments.filter(isRecord).map((a) => ({ contentType: String(a.contentType ?? ''), content: a.content }))
      : [];
    const message: BotMessage = {
      action,
      conversationId: String(event.actionConversationId ?? ''),
      messageId: String(m.messageId ?? ''),
      timestamp: Number(m.timestamp ?? 0),
      from: isRecord(m.from) ? { id: String(m.from.id ?? ''), name: typeof m.from.name === 'string' ? m.from.name : undefined } : { id: '' },
      text: typeof m.text === 'string' ? m.text : undefined,
      attachments,
      cards: attachments.filter((a) => a.contentType === ADAPTIVE_CARD).map((a) => parseCard(a.content)).filter((c): c is AdaptiveCard => c !== undefined),
      seq: this.received.length,
    };
    this.received.push(message);
    notify(this.messageWaiters, message);
  }

  private onLogEvent(data: string): void {
    const event = parseJson(data);
    if (!isRecord(event) || !isRecord(event.log)) return;
    const log = event.log;
    // Only activities the emulator delivered to the bot; the bot's own calls are logged the other way.
    if (log.to !== 'User Application' || typeof log.activityName !== 'string') return;
    const request = isRecord(log.request) ? log.request.body : undefined;
    const response = isRecord(log.response) ? log.response : undefined;
    const status = response?.statusCode === undefined ? undefined : Number(response.statusCode);
    const turn: BotTurn = {
      activityType: log.activityName,
      activityId: typeof log.messageId === 'string' ? log.messageId : undefined,
      conversationId: String(log.conversationId ?? ''),
      request,
      status: Number.isFinite(status) ? status : undefined,
      response: response?.body,
      seq: this.turns.length,
    };
    this.turns.push(turn);
    notify(this.turnWaiters, turn);
  }

  private onSocketClosed(why: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = why;
    const error = new Error(`Emulator stream closed (${why}) before a match`);
    for (const waiter of [...this.messageWaiters, ...this.turnWaiters]) waiter.reject(error);
    this.messageWaiters.clear();
    this.turnWaiters.clear();
    for (const socket of this.sockets) socket.close();
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(`${method} ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered HTTP ${response.status}: ${text.slice(0, 1000)}`);
    if (text === '') return '' as T;
    const parsed = parseJson(text);
    return (parsed === undefined ? text : parsed) as T;
  }
}

/**
 * Every piece of text a person would read on a card, in order, joined with newlines: TextBlock
 * and RichTextBlock text (also inside Table cells), FactSet titles and values, and action titles.
 */
export function cardText(card: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.text === 'string') out.push(node.text);
    if (typeof node.title === 'string') out.push(node.title);
    if (typeof node.value === 'string' && node.type === undefined) out.push(node.value);
    for (const key of ['body', 'items', 'columns', 'facts', 'inlines', 'actions', 'card', 'rows', 'cells']) {
      if (key in node) walk(node[key]);
    }
  };
  walk(card);
  return out.join('\n');
}

/** A card action (Action.Execute, Action.Submit, ...) found by its title, anywhere in the card. */
export interface CardAction {
  type: string;
  title: string;
  verb?: string;
  data?: unknown;
}

/** The first action titled `title` in a card (top-level actions, ActionSets, ShowCards), or undefined. */
export function findCardAction(card: unknown, title: string): CardAction | undefined {
  let found: CardAction | undefined;
  const walk = (node: unknown): void => {
    if (found) return;
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!isRecord(node)) return;
    if (typeof node.type === 'string' && node.type.startsWith('Action.') && node.title === title) {
      found = { type: node.type, title, verb: typeof node.verb === 'string' ? node.verb : undefined, data: node.data };
      return;
    }
    for (const key of ['actions', 'body', 'items', 'columns', 'card', 'selectAction']) {
      if (key in node) walk(node[key]);
    }
  };
  walk(card);
  return found;
}

interface RawConfigResponse {
  config: {
    tenantId: string;
    bot?: { id: string; name: string };
    currentUser?: EmulatorUser;
    users?: EmulatorUser[];
    personalChat?: { id: string };
    groupChats?: Array<{ id: string; name: string }>;
    teams?: Array<{ id: string; name: string; channels?: Array<{ id: string; name: string }> }>;
  };
}

function openSocket(url: string, onMessage: (data: string) => void, onClosed: (why: string) => void): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url);
    let open = false;
    socket.on('message', (data) => onMessage((Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8')));
    socket.once('open', () => {
      open = true;
      resolve(socket);
    });
    socket.on('error', (error) => {
      if (!open) reject(new Error(`Cannot open ${url}: ${error.message}`));
    });
    socket.once('close', (code) => {
      if (open) onClosed(`${url} closed with code ${code}`);
    });
  });
}

function notify<T>(waiters: Set<Waiter<T>>, item: T): void {
  for (const waiter of [...waiters]) {
    if (waiter.accept(item)) waiters.delete(waiter);
  }
}

function parseCard(content: unknown): AdaptiveCard | undefined {
  // Bots may send the card as a JSON string; the emulator passes it through unchanged.
  const value = typeof content === 'string' ? parseJson(content) : content;
  return isRecord(value) && value.type === 'AdaptiveCard' ? (value as AdaptiveCard) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(messages: BotMessage[]): string {
  if (messages.length === 0) return '  (nothing)';
  return messages.map((m) => {
    const cards = m.cards.map((c) => `[card: ${cardText(c).replace(/\s+/g, ' ').slice(0, 120)}]`).join(' ');
    return `  #${m.seq} ${m.action} ${m.messageId} in ${m.conversationId}: ${(m.text ?? '').slice(0, 120)} ${cards}`.trimEnd();
  }).join('\n');
}
