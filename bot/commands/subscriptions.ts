import { CHAT_COMMANDS, ChatCommand } from '../../src/chat-commands';
import { ALL_RULES } from '../../src/alerts/alert-state';
import { replyCard, Turn } from '../conversation';
import { CommandHandler } from './index';

const entry = (name: string): ChatCommand => CHAT_COMMANDS.find((c) => c.name === name)!;

function runtime(turn: Turn) {
  const alerts = turn.services.alerts;
  if (!alerts) throw new Error('alerting is not running in this bot');
  return alerts;
}

/** `all` or a known rule id; otherwise undefined and the reply says which rules there are. */
function ruleArg(turn: Turn, arg: string): string | undefined {
  const id = arg.trim().toLowerCase();
  if (id === 'all' || id === '*') return ALL_RULES;
  return runtime(turn).rules().find((r) => r.id === id)?.id;
}

async function unknownRule(turn: Turn, arg: string, usage: string): Promise<void> {
  const ids = runtime(turn).rules().map((r) => r.id);
  await replyCard(turn, 'notice', {
    title: arg ? `There is no rule '${arg.slice(0, 60)}'` : 'Which rule?',
    text: `Write ${usage} with one of: ${ids.join(', ')}, or all (every rule, plus the engine's own notices: delays, people it cannot reach).`,
    style: 'warning',
  });
}

const label = (ruleId: string) => (ruleId === ALL_RULES ? 'all rules (this is a support channel: delays and unreachable people are reported here too)' : `the rule ${ruleId}`);

export const subscribe: CommandHandler = {
  command: entry('subscribe'),
  async run(turn, args) {
    const ruleId = ruleArg(turn, args);
    if (!ruleId) return unknownRule(turn, args, 'subscribe <rule>');
    const conversationId = turn.context.activity.conversation.id;
    const added = runtime(turn).state.subscribe(conversationId, ruleId, turn.sender.person?.userId, turn.services.engine.clock());
    await replyCard(turn, 'notice', {
      title: added ? 'Subscribed' : 'Already subscribed',
      text: `This conversation gets the notices of ${label(ruleId)}.`,
      style: 'good',
    });
  },
};

export const unsubscribe: CommandHandler = {
  command: entry('unsubscribe'),
  async run(turn, args) {
    const ruleId = ruleArg(turn, args);
    if (!ruleId) return unknownRule(turn, args, 'unsubscribe <rule>');
    const removed = runtime(turn).state.unsubscribe(turn.context.activity.conversation.id, ruleId);
    await replyCard(turn, 'notice', {
      title: removed ? 'Unsubscribed' : 'Was not subscribed',
      text: removed ? `No more notices of ${label(ruleId)} here.` : `This conversation was not subscribed to ${label(ruleId)}.`,
      style: 'default',
    });
  },
};

export const subscriptions: CommandHandler = {
  command: entry('subscriptions'),
  async run(turn) {
    const ids = runtime(turn).state.subscriptionsOf(turn.context.activity.conversation.id);
    await replyCard(turn, 'notice', {
      title: 'Subscriptions here',
      text: ids.length ? ids.map((id) => (id === ALL_RULES ? 'all rules (support channel)' : id)).join(', ') : 'None. Write subscribe <rule> or subscribe all.',
      style: 'default',
    });
  },
};
