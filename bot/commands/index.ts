import { CHAT_COMMANDS, ChatCommand } from '../../src/chat-commands';
import { replyCard, roleName, Turn } from '../conversation';

/** A chat command: its registry entry and what it does. */
export interface CommandHandler {
  command: ChatCommand;
  run(turn: Turn, args: string): Promise<void>;
}

const entry = (name: string): ChatCommand => {
  const command = CHAT_COMMANDS.find((c) => c.name === name);
  if (!command) throw new Error(`chat command '${name}' is not in CHAT_COMMANDS`);
  return command;
};

/** What each role can do, in one sentence. */
export function canDo(role: string | undefined): string {
  switch (role) {
    case 'support':
      return 'You can ask about any logs, turn questions into alert rules, and act on incidents.';
    case 'supervisor':
      return 'You can ask about any logs and acknowledge, escalate or resolve incidents from their cards.';
    case 'user':
      return 'You can ask what went wrong for you; when a known problem hits you, I send you the workaround.';
    default:
      return 'Ask your administrator to add your Teams account to the user directory; until then I can only show this help.';
  }
}

export const help: CommandHandler = {
  command: entry('help'),
  async run(turn) {
    const role = turn.sender.person?.role;
    const staff = role === 'support' || role === 'supervisor';
    const sections = staff
      ? [
          { title: 'Find events', examples: ['show errors for user 1087 today', 'show logs for document 11213', 'errors from 198.51.100.0/24 except 403', 'show "Failed to perform." errors since Wednesday'] },
          { title: 'Count and compare', examples: ['how many failed logins yesterday', 'count errors by node this week', 'errors per hour today', 'top 5 errors this week'] },
          { title: 'Time', examples: ['today, yesterday, this week, last 2 hours', 'since Wednesday, on June 10, between 10:00 and 11:30, at 12:57'] },
        ]
      : role === 'user'
        ? [{ title: 'Your own problems', examples: ['what went wrong for me today?', 'my errors this week', 'my failed logins yesterday'] }]
        : [];
    const commands = CHAT_COMMANDS.filter((c) => c.open || (role && c.roles.includes(role as never))).map((c) => ({ usage: c.usage, description: c.description }));
    await replyCard(turn, 'help', { name: turn.sender.name || 'there', role: roleName(role), sections, commands });
  },
};

export const whoami: CommandHandler = {
  command: entry('whoami'),
  async run(turn) {
    const p = turn.sender.person;
    const text = p
      ? `You are ${p.displayName} (${p.login}), user ${p.userId} in the logs, with the role ${roleName(p.role)}.${p.supervisorId ? ` Your supervisor is ${turn.services.engine.directory.byUserId(p.supervisorId)?.displayName ?? p.supervisorId}.` : ''} ${canDo(p.role)}`
      : `Your Teams account (${turn.sender.aadObjectId ?? turn.sender.teamsId}) is not in the user directory. ${canDo(undefined)}`;
    await replyCard(turn, 'notice', { title: 'Who you are here', text, style: 'default' });
  },
};

