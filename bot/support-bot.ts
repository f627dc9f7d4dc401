import {
  AdaptiveCardInvokeResponse,
  AdaptiveCardInvokeValue,
  ConversationReference,
  TeamsActivityHandler,
  TurnContext,
} from 'botbuilder';
import { isValidZone } from '../src/logs/timestamps';
import { MAX_QUESTION_LENGTH } from '../src/query/question-tokens';
import { QUESTION_EXAMPLES } from '../src/chat-commands';
import { CardAttachment } from '../src/cards/render-card';
import { BotServices, replyCard, roleName, Turn, zoneOf } from './conversation';
import { identifySender } from './identity';
import { canDo, CommandHandler, help, whoami } from './commands';
import { answerQuestion } from './commands/question';

/** Card verbs this bot answers; anything else is refused as unknown. */
export type CardVerbHandler = (turn: Turn, data: Record<string, unknown>) => Promise<AdaptiveCardInvokeResponse>;

const cardResponse = (attachment: CardAttachment): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.card.adaptive',
  value: attachment.content as never,
});

const messageResponse = (text: string): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.activity.message',
  value: text as never,
});

/** A Universal Action refused: bad or forged data. Teams shows the message; nothing changes. */
export const badRequest = (message: string): AdaptiveCardInvokeResponse => ({
  statusCode: 400,
  type: 'application/vnd.microsoft.error',
  value: { code: 'BadRequest', message } as never,
});

/**
 * The Teams-facing bot: turns activities into engine calls and cards, nothing more. Commands and
 * card verbs come from explicit registries; who may do what is decided from the sender's identity
 * in the directory.
 */
export class SupportBot extends TeamsActivityHandler {
  private readonly commands = new Map<string, CommandHandler>();
  private readonly verbs = new Map<string, CardVerbHandler>();

  constructor(private readonly services: BotServices, extra: { commands?: CommandHandler[]; verbs?: Record<string, CardVerbHandler> } = {}) {
    super();
    for (const c of [help, whoami, ...(extra.commands ?? [])]) {
      if (this.commands.has(c.command.name)) throw new Error(`chat command '${c.command.name}' registered twice`);
      this.commands.set(c.command.name, c);
    }
    this.verbs.set('answer.more', (turn, data) => this.showMore(turn, data));
    this.verbs.set('ask', (turn, data) => this.askFromCard(turn, data));
    for (const [verb, handler] of Object.entries(extra.verbs ?? {})) {
      if (this.verbs.has(verb)) throw new Error(`card verb '${verb}' registered twice`);
      this.verbs.set(verb, handler);
    }

    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      this.remember(context);
      await this.welcome(context);
      await next();
    });
    this.onInstallationUpdateRemove(async (context, next) => {
      this.forget(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      // Added to a team or group chat (or first contact in a personal chat): keep the reference.
      if ((context.activity.membersAdded ?? []).some((m) => m.id === context.activity.recipient.id)) this.remember(context);
      await next();
    });
    this.onMembersRemoved(async (context, next) => {
      if ((context.activity.membersRemoved ?? []).some((m) => m.id === context.activity.recipient.id)) this.forget(context);
      await next();
    });
  }

  private async turn(context: TurnContext): Promise<Turn> {
    const sender = await identifySender(context, this.services.engine.directory);
    return { context, sender, services: this.services, timeZone: zoneOf(context, this.services.engine.config.timeZone) };
  }

  /** Keeps the conversation reference so the bot can write here later (proactive cards). */
  private remember(context: TurnContext): void {
    const a = context.activity;
    const reference = TurnContext.getConversationReference(a) as Partial<ConversationReference>;
    const type = a.conversation?.conversationType;
    const kind = type === 'channel' ? 'channel' : type === 'groupChat' ? 'groupChat' : 'personal';
    const channelData = (a.channelData ?? {}) as { tenant?: { id?: string }; team?: { id?: string } };
    const tenantId = a.conversation?.tenantId ?? channelData.tenant?.id;
    this.services.conversations.saveConversation({
      conversationId: a.conversation.id,
      kind,
      reference: reference as Record<string, unknown>,
      ...(kind === 'personal' && a.from?.aadObjectId ? { aadObjectId: a.from.aadObjectId } : {}),
      ...(tenantId ? { tenantId } : {}),
      ...(channelData.team?.id ? { teamId: channelData.team.id } : {}),
      updatedAt: this.services.engine.clock(),
    });
  }

  private forget(context: TurnContext): void {
    if (this.services.conversations.removeConversation(context.activity.conversation.id)) {
      this.services.logger.info('conversation reference removed (app uninstalled)', { conversationId: context.activity.conversation.id });
    }
  }

  private async welcome(context: TurnContext): Promise<void> {
    const turn = await this.turn(context);
    const role = turn.sender.person?.role;
    await replyCard(turn, 'welcome', {
      name: turn.sender.name || 'there',
      role: roleName(role),
      canDo: canDo(role),
      examples: role === 'user' ? ['what went wrong for me today?', 'help'] : [...QUESTION_EXAMPLES, 'help'],
    });
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    this.services.metrics.activities.inc({ type: 'message' });
    this.remember(context);
    const turn = await this.turn(context);
    // Mentions of the bot (with or without a mention entity) are not part of the question.
    const text = (TurnContext.removeRecipientMention(context.activity) ?? context.activity.text ?? '').replace(/<at>[^<]*<\/at>/gi, ' ').trim();
    if (!text) {
      // A card submit or an empty message: nothing to answer but the help.
      await help.run(turn, '');
      return;
    }
    const [first = '', ...rest] = text.split(/\s+/);
    const command = this.commands.get(first.toLowerCase());
    if (command) {
      const role = turn.sender.person?.role;
      const scope = context.activity.conversation.conversationType === 'channel' ? 'team' : context.activity.conversation.conversationType === 'groupChat' ? 'groupChat' : 'personal';
      if (!command.command.scopes.includes(scope)) {
        await replyCard(turn, 'notice', { title: 'Not here', text: `'${command.command.usage}' works in ${command.command.scopes.join(', ')} conversations.`, style: 'warning' });
        return;
      }
      if (!command.command.open && (!role || !command.command.roles.includes(role))) {
        await replyCard(turn, 'notice', {
          title: 'Not for your role',
          text: `'${command.command.name}' is for ${command.command.roles.map(roleName).join(' and ')}s. ${canDo(role)}`,
          style: 'attention',
        });
        return;
      }
      await command.run(turn, rest.join(' '));
      return;
    }
    const card = await answerQuestion(turn, text);
    await context.sendActivity({ type: 'message', attachments: [card] });
  }

  /** Universal Actions: dispatch on the exact verb; card data is untrusted input. */
  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = invokeValue?.action?.verb;
    const handler = typeof verb === 'string' ? this.verbs.get(verb) : undefined;
    const data = invokeValue?.action?.data;
    if (!handler || typeof data !== 'object' || data === null || Array.isArray(data)) {
      this.services.metrics.cardActions.inc({ verb: String(verb ?? 'none').slice(0, 40), outcome: 'refused' });
      this.services.logger.warn('card action refused: unknown verb or bad data', { verb: String(verb).slice(0, 80), from: context.activity.from?.aadObjectId });
      return badRequest('This card action is not one I know.');
    }
    this.remember(context);
    const turn = await this.turn(context);
    const response = await handler(turn, data as Record<string, unknown>);
    this.services.metrics.cardActions.inc({ verb, outcome: response.statusCode === 200 ? 'done' : 'refused' });
    return response;
  }

  /** "Show more": the next page of the same question, read at the same "now", for the same sender. */
  private async showMore(turn: Turn, data: Record<string, unknown>): Promise<AdaptiveCardInvokeResponse> {
    const { question, offset, now, timeZone } = data;
    if (
      typeof question !== 'string' || question.length === 0 || question.length > MAX_QUESTION_LENGTH ||
      !Number.isInteger(offset) || (offset as number) < 1 || (offset as number) > 9000 ||
      typeof now !== 'string' || Number.isNaN(Date.parse(now)) ||
      typeof timeZone !== 'string' || !isValidZone(timeZone)
    ) {
      this.services.logger.warn('card action refused: bad answer.more data', { from: turn.sender.aadObjectId });
      return badRequest('This "Show more" button is not valid any more. Ask the question again.');
    }
    return cardResponse(await answerQuestion(turn, question, { offset: offset as number, now: new Date(now), timeZone }));
  }

  /** An example question on a card: asked as if it was typed. */
  private async askFromCard(turn: Turn, data: Record<string, unknown>): Promise<AdaptiveCardInvokeResponse> {
    const question = data.question;
    if (typeof question !== 'string' || question.length === 0 || question.length > MAX_QUESTION_LENGTH) {
      return badRequest('This button does not carry a question.');
    }
    await turn.context.sendActivity({ type: 'message', attachments: [await answerQuestion(turn, question)] });
    return messageResponse(`Asked: ${question}`);
  }
}
