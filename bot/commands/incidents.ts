import { CHAT_COMMANDS, ChatCommand } from '../../src/chat-commands';
import { formatTime } from '../../src/alerts/compose';
import { mayAct } from '../../src/alerts/incidents';
import { replyCard, Turn } from '../conversation';
import { ActionOutcome, resolve as resolveIncident, snooze as snoozeIncident } from '../incident-actions';
import { CommandHandler } from './index';

const entry = (name: string): ChatCommand => CHAT_COMMANDS.find((c) => c.name === name)!;

function alerts(turn: Turn) {
  const a = turn.services.alerts;
  if (!a) throw new Error('alerting is not running in this bot');
  return a;
}

/** `12`, `#12`: an incident id, or undefined. */
function incidentId(text: string | undefined): number | undefined {
  const m = /^#?(\d{1,9})$/.exec((text ?? '').trim());
  return m ? Number(m[1]) : undefined;
}

async function tell(turn: Turn, outcome: ActionOutcome): Promise<void> {
  await replyCard(turn, 'notice', outcome.ok ? { title: 'Done', text: outcome.text, style: 'good' } : { title: outcome.status === 'forbidden' ? 'Not for your role' : 'Nothing changed', text: outcome.text, style: outcome.status === 'forbidden' ? 'attention' : 'warning' });
}

export const incidents: CommandHandler = {
  command: entry('incidents'),
  async run(turn) {
    const a = alerts(turn);
    const zone = turn.services.engine.config.timeZone;
    const rows = a.state.incidents({ states: ['open', 'acknowledged', 'escalated'] }).map((i) => {
      const rule = a.rules().find((r) => r.id === i.ruleId);
      const last = a.incidents.lastChange(i.id);
      const state = i.state === 'open' ? 'Open' : `${i.state[0]!.toUpperCase()}${i.state.slice(1)}${last ? ` by ${last.actorName}` : ''}`;
      const snoozed = i.snoozedUntil && i.snoozedUntil > turn.services.engine.clock() ? `, snoozed until ${formatTime(i.snoozedUntil, zone)}` : '';
      return {
        id: i.id,
        title: (rule?.card.title ?? i.ruleId).replace(/\{[a-z._]+\}/g, '').trim(),
        ruleId: i.ruleId,
        state: `${state}${snoozed}`,
        users: a.state.incidentUsers(i.id).length,
        lastSeen: formatTime(i.lastSeen, zone),
      };
    });
    await replyCard(turn, 'incident-list', { title: 'Open incidents', empty: 'No open incidents: nothing known is hitting anyone right now.', rows });
  },
};

export const incident: CommandHandler = {
  command: entry('incident'),
  async run(turn, args) {
    const id = incidentId(args);
    if (id === undefined) {
      await replyCard(turn, 'notice', { title: 'Which incident?', text: 'Write incident <id>, e.g. incident 3. "incidents" lists the open ones.', style: 'warning' });
      return;
    }
    const actor = turn.sender.person;
    const view = alerts(turn).incidentCards.view(id, { actions: mayAct(actor), withHistory: true, ...(actor?.role === 'supervisor' ? { supervisor: actor } : {}) });
    if (!view) {
      await replyCard(turn, 'notice', { title: `No incident ${id}`, text: '"incidents" lists the open ones.', style: 'warning' });
      return;
    }
    await turn.context.sendActivity({ type: 'message', attachments: [turn.services.cards.attachment(view as never)] });
  },
};

export const resolve: CommandHandler = {
  command: entry('resolve'),
  async run(turn, args) {
    const [first = '', ...rest] = args.trim().split(/\s+/);
    const id = incidentId(first);
    if (id === undefined || !rest.length) {
      await replyCard(turn, 'notice', { title: 'How to resolve', text: 'Write resolve <id> <message for the affected users>, e.g. resolve 3 fixed in 2.4.1', style: 'warning' });
      return;
    }
    await tell(turn, resolveIncident(turn, id, rest.join(' ')));
  },
};

export const snooze: CommandHandler = {
  command: entry('snooze'),
  async run(turn, args) {
    const [first = '', duration = ''] = args.trim().split(/\s+/);
    const id = incidentId(first);
    if (id === undefined || !duration) {
      await replyCard(turn, 'notice', { title: 'How to snooze', text: 'Write snooze <id> <duration>, e.g. snooze 3 1h (30m, 1h, 1d).', style: 'warning' });
      return;
    }
    await tell(turn, snoozeIncident(turn, id, duration));
  },
};
