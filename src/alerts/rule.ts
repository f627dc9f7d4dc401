import { Filter } from '../query/log-query';

/**
 * An alert rule: which events signal a known problem, whose problem it is (the key, usually the
 * user), when it is worth telling (type and its options), whom to tell, and the workaround card.
 * Rules live as YAML files in rules/ (see rules/README.md and rules/rule.schema.json); a loaded
 * rule has its filter compiled into LogQuery filters, the same vocabulary the chat uses.
 */
export interface Rule {
  id: string;
  description: string;
  enabled: boolean;
  /** Compiled from the file's `filter` (levels and `where` conditions). */
  filters: Filter[];
  type: RuleTypeOptions;
  /** The field that says whose problem an event is. Default `user.id`. */
  key: KeyField;
  /** After telling a key, stay quiet about it for this long (ms). */
  realertMs: number;
  recipients: Recipients;
  card: WorkaroundCard;
  /** Where the rule came from, for messages: `rules/forbidden-edit.yaml`. */
  file: string;
}

export type KeyField = 'user.id' | 'user.name' | 'host.name' | 'source.ip' | 'document.id' | 'entity.id';

export type RuleTypeOptions =
  /** Every matching event (throttled per key by realert). */
  | { name: 'any' }
  /** At least `threshold` matching events for the same key within a sliding window of `windowMs`. */
  | { name: 'frequency'; threshold: number; windowMs: number };

export interface Recipients {
  /** The user the key names (the key must be `user.id`): they get the workaround card. */
  affected: boolean;
  /** That user's supervisor (from the directory): a notice with the same specifics. */
  supervisor: boolean;
  /** Channels and group chats subscribed to the rule (`subscribe <rule>`) get a notice. */
  channel: boolean;
}

export interface WorkaroundCard {
  /** Headline of the card the affected user gets, e.g. "Editing Service Hours Adjustments". */
  title: string;
  /** What happened, in plain words; `{placeholders}` take the event's specifics (see WORKAROUND_PLACEHOLDERS). */
  problem: string;
  /** What to do about it, in steps. */
  workaround: string[];
  /** Text for the supervisor's notice, when supervisors are told. */
  supervisorNote?: string;
  links: { title: string; url: string }[];
}

/** Event specifics a card text may use: `{document.id}`, `{time}`, `{count}`. */
export const WORKAROUND_PLACEHOLDERS = [
  'time', 'count', 'user.id', 'user.name', 'document.id', 'document.type', 'entity.id', 'url.path', 'http.response.status_code',
  'source.ip', 'host.name', 'message', 'error.type',
] as const;
