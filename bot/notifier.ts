import { Activity, CloudAdapter, ConversationReference, TeamsInfo, TurnContext } from 'botbuilder';
import { Delivery, Notification, Notifier } from '../src/alerts/notifications';
import { ConversationStore } from '../src/state/state-store';

export interface TeamsNotifierOptions {
  /** The bot's app id ('' when anonymous, in local mode). */
  appId: string;
  /** Tenant to create 1:1 chats in (MicrosoftAppTenantId); otherwise the tenant of a stored conversation. */
  tenantId?: string;
}

/** An update of a card already sent: the conversation and the activity to replace. */
export interface CardUpdate {
  conversationId: string;
  activityId: string;
  card: Record<string, unknown>;
}

const ADAPTIVE = 'application/vnd.microsoft.card.adaptive';

function status(err: unknown): number | undefined {
  const e = err as { statusCode?: number; status?: number; response?: { status?: number } };
  return e?.statusCode ?? e?.response?.status ?? e?.status;
}

function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { response?: { headers?: { get?: (name: string) => string | undefined } | Record<string, string> } })?.response?.headers;
  const raw = headers ? (typeof headers.get === 'function' ? headers.get('retry-after') : (headers as Record<string, string>)['retry-after']) : undefined;
  if (raw === undefined || raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(raw));
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Maps a connector failure to what the dispatcher should do next. */
export function deliveryOfError(err: unknown): Delivery {
  const code = status(err);
  const reason = `${code ? `HTTP ${code}: ` : ''}${(err as Error)?.message ?? String(err)}`.slice(0, 300);
  // "User not found" (the person has no chat with the app, or is not in the tenant): retrying does not help.
  if (/user not found|member not found|not installed|bot is not part of the conversation roster/i.test(reason)) {
    return { outcome: 'unreachable', reason };
  }
  if (code === 429) {
    const after = retryAfterMs(err);
    return { outcome: 'retry', reason, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  if (code === undefined || code >= 500 || code === 408) return { outcome: 'retry', reason };
  if (code === 404) return { outcome: 'unreachable', reason: `conversation not found (${reason})` };
  if (code === 403) return { outcome: 'unreachable', reason: `the app is not installed for this person or is blocked (${reason})` };
  return { outcome: 'failed', reason };
}

/**
 * Delivers notifications into Teams with botbuilder: into the stored conversation (a personal chat
 * captured at install or first message, or a subscribed channel), or, for a person with no stored
 * conversation, into a 1:1 chat created for them (needs their Entra object id and the tenant).
 */
export class TeamsNotifier implements Notifier {
  readonly name = 'teams';
  /** Entra object id → Teams user id, learned from the rosters of teams and group chats. */
  private readonly memberIds = new Map<string, string>();

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly conversations: ConversationStore,
    private readonly options: TeamsNotifierOptions,
  ) {}

  async deliver(n: Notification): Promise<Delivery> {
    const activity: Partial<Activity> = { type: 'message', attachments: [{ contentType: ADAPTIVE, content: n.card }] };
    const r = n.recipient;
    if (r.updateActivityId && r.conversationId) {
      return this.update({ conversationId: r.conversationId, activityId: r.updateActivityId, card: n.card });
    }
    try {
      if (r.role === 'channel') {
        const record = r.conversationId ? this.conversations.conversation(r.conversationId) : undefined;
        if (!record) return { outcome: 'unreachable', reason: `no conversation reference for ${r.conversationId ?? 'the channel'} (was the app removed?)` };
        return await this.send(record.reference as Partial<ConversationReference>, activity);
      }
      if (!r.aadObjectId) {
        return { outcome: 'unreachable', reason: r.userId ? `user ${r.userId} is not in the user directory (no Teams identity)` : 'no Teams identity' };
      }
      const personal = this.conversations.personalConversation(r.aadObjectId);
      if (personal) return await this.send(personal.reference as Partial<ConversationReference>, activity);
      return await this.createAndSend(r.aadObjectId, activity);
    } catch (err) {
      return deliveryOfError(err);
    }
  }

  /** Replaces a card sent earlier (an incident's new state, a resolved workaround). */
  async update(update: CardUpdate): Promise<Delivery> {
    const record = this.conversations.conversation(update.conversationId);
    if (!record) return { outcome: 'unreachable', reason: `no conversation reference for ${update.conversationId}` };
    try {
      await this.adapter.continueConversationAsync(this.options.appId, record.reference as Partial<ConversationReference>, async (context: TurnContext) => {
        await context.updateActivity({ type: 'message', id: update.activityId, attachments: [{ contentType: ADAPTIVE, content: update.card }] });
      });
      return { outcome: 'sent', conversationId: update.conversationId, activityId: update.activityId };
    } catch (err) {
      return deliveryOfError(err);
    }
  }

  private async send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<Delivery> {
    let activityId: string | undefined;
    await this.adapter.continueConversationAsync(this.options.appId, reference, async (context: TurnContext) => {
      activityId = (await context.sendActivity(activity))?.id;
    });
    return { outcome: 'sent', conversationId: String(reference.conversation?.id), ...(activityId ? { activityId } : {}) };
  }

  /** A 1:1 chat with a person the bot has not talked to yet, in the tenant of the stored conversations. */
  private async createAndSend(aadObjectId: string, activity: Partial<Activity>): Promise<Delivery> {
    const any = this.conversations.conversations()[0];
    const serviceUrl = any?.reference.serviceUrl as string | undefined;
    const tenantId = this.options.tenantId ?? any?.tenantId;
    if (!serviceUrl || !tenantId) {
      return { outcome: 'unreachable', reason: 'the app is not installed for this person and no tenant is known to create a chat in' };
    }
    const bot = (any?.reference.bot as { id: string; name?: string } | undefined) ?? { id: this.options.appId };
    // Teams accepts the Entra object id as the member; a roster id is used when the bot knows one.
    const memberId = (await this.memberIdOf(aadObjectId)) ?? aadObjectId;
    let conversationId = '';
    let activityId: string | undefined;
    await this.adapter.createConversationAsync(
      this.options.appId,
      'msteams',
      serviceUrl,
      '',
      { isGroup: false, bot: { id: bot.id, name: bot.name ?? '' }, members: [{ id: memberId, name: '' }], tenantId, channelData: { tenant: { id: tenantId } } } as never,
      async (context: TurnContext) => {
        conversationId = context.activity.conversation.id;
        activityId = (await context.sendActivity(activity))?.id;
        // Keep the new chat: the next notification goes straight there.
        this.conversations.saveConversation({
          conversationId,
          kind: 'personal',
          reference: TurnContext.getConversationReference(context.activity) as Record<string, unknown>,
          aadObjectId,
          tenantId,
          updatedAt: Date.now(),
        });
      },
    );
    return { outcome: 'sent', conversationId, ...(activityId ? { activityId } : {}) };
  }

  /** The person's Teams user id, looked up in the rosters of the teams and group chats the bot is in. */
  private async memberIdOf(aadObjectId: string): Promise<string | undefined> {
    const key = aadObjectId.toLowerCase();
    if (this.memberIds.has(key)) return this.memberIds.get(key);
    for (const record of this.conversations.conversations().filter((c) => c.kind !== 'personal')) {
      try {
        await this.adapter.continueConversationAsync(this.options.appId, record.reference as Partial<ConversationReference>, async (context: TurnContext) => {
          let token: string | undefined;
          do {
            const page = await TeamsInfo.getPagedMembers(context, 500, token);
            for (const m of page.members) if (m.aadObjectId) this.memberIds.set(m.aadObjectId.toLowerCase(), m.id);
            token = page.continuationToken;
          } while (token);
        });
      } catch {
        // A roster the bot cannot read (removed from the team): try the next.
      }
      if (this.memberIds.has(key)) return this.memberIds.get(key);
    }
    return undefined;
  }
}
