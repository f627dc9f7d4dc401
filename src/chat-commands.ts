/**
 * The chat commands the bot understands besides plain-language questions: one registry for the
 * bot's dispatcher, the help card and the app manifest's command lists.
 */
export type Scope = 'personal' | 'team' | 'groupChat';

export interface ChatCommand {
  /** The word that starts the command, e.g. `subscribe`. */
  name: string;
  /** How to type it, e.g. `subscribe <rule>`. */
  usage: string;
  /** One line for the help card and the Teams command menu (at most 128 characters). */
  description: string;
  /** Where it can be used. */
  scopes: Scope[];
  /** Who may use it (the bot checks the sender's role). */
  roles: ('user' | 'supervisor' | 'support')[];
  /** Anyone may use it, also people not in the directory (help, whoami). */
  open?: boolean;
}

const everywhere: Scope[] = ['personal', 'team', 'groupChat'];
const staff: ChatCommand['roles'] = ['supervisor', 'support'];

export const CHAT_COMMANDS: ChatCommand[] = [
  { name: 'help', usage: 'help', description: 'What you can ask, with examples', scopes: everywhere, roles: ['user', 'supervisor', 'support'], open: true },
  { name: 'whoami', usage: 'whoami', description: 'Who the bot thinks you are, and your role', scopes: everywhere, roles: ['user', 'supervisor', 'support'], open: true },
  { name: 'incidents', usage: 'incidents', description: 'Open incidents', scopes: everywhere, roles: staff },
  { name: 'incident', usage: 'incident <id>', description: 'An incident: affected users, counts, audit trail', scopes: everywhere, roles: staff },
  { name: 'resolve', usage: 'resolve <id> <message>', description: 'Resolve an incident and tell everyone affected', scopes: everywhere, roles: staff },
  { name: 'snooze', usage: 'snooze <id> <duration>', description: 'Snooze an incident (1h, 1d)', scopes: everywhere, roles: staff },
  { name: 'subscribe', usage: 'subscribe <rule>', description: "Post a rule's notices in this channel or chat", scopes: ['team', 'groupChat'], roles: staff },
  { name: 'unsubscribe', usage: 'unsubscribe <rule>', description: "Stop a rule's notices here", scopes: ['team', 'groupChat'], roles: staff },
  { name: 'subscriptions', usage: 'subscriptions', description: 'The rules whose notices come here', scopes: ['team', 'groupChat'], roles: staff },
  { name: 'rule', usage: 'rule from "<question>"', description: 'Turn a question into an alert rule draft', scopes: everywhere, roles: ['support'] },
];

/** Examples of plain-language questions, shown in help and the command menu. */
export const QUESTION_EXAMPLES = [
  'show errors for user 1087 today',
  'count failed logins by hour yesterday',
  'top 5 errors this week',
];
