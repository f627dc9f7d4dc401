import { RuleTypeOptions } from './rule';

/**
 * Rule types are pure: events and state in, matches and the next state out. No I/O, no clock of
 * their own (time is the events' time), so a replay of last week gives last week's answers.
 */

/** A matching event as a rule type sees it. */
export interface RuleEvent {
  /** Provenance `path:line`, unique per event. */
  source: string;
  /** Event time, epoch ms. */
  ts: number;
  /** The rule's key value (e.g. the user id); events without a key are not given to the type. */
  key: string;
}

/** A key that crossed the rule's condition, with the events that made it so (oldest first). */
export interface Match {
  key: string;
  /** The event that completed the condition. */
  trigger: RuleEvent;
  /** All events that count toward this match (for `frequency`: those in the window). */
  events: RuleEvent[];
}

/** Per-key memory of a type between runs (JSON-serialisable, stored durably by the engine). */
export type KeyState = { recent: { source: string; ts: number }[] };

export interface RuleType {
  name: RuleTypeOptions['name'];
  /**
   * Evaluates new events (ascending by time, each given once) against the per-key state.
   * Returns the matches and the state to keep; keys absent from `state` after the call are forgotten.
   */
  evaluate(options: RuleTypeOptions, state: Record<string, KeyState>, events: RuleEvent[]): { state: Record<string, KeyState>; matches: Match[] };
}

/** `any`: every matching event is a match (the engine throttles per key with realert). */
export const anyType: RuleType = {
  name: 'any',
  evaluate(_options, state, events) {
    return { state, matches: events.map((e) => ({ key: e.key, trigger: e, events: [e] })) };
  },
};

/**
 * `frequency`: a key matches when at least `threshold` of its events fall within a sliding window
 * of `windowMs` ending at the newest one (ElastAlert's frequency rule, per query_key). The state
 * keeps each key's events of the last window, so the count continues across runs.
 */
export const frequencyType: RuleType = {
  name: 'frequency',
  evaluate(options, state, events) {
    if (options.name !== 'frequency') throw new Error('frequency rule type needs frequency options');
    const next: Record<string, KeyState> = {};
    for (const [key, s] of Object.entries(state)) next[key] = { recent: [...s.recent] };
    const matches: Match[] = [];
    for (const e of events) {
      const s = (next[e.key] ??= { recent: [] });
      s.recent.push({ source: e.source, ts: e.ts });
      s.recent = s.recent.filter((r) => r.ts >= e.ts - options.windowMs);
      if (s.recent.length >= options.threshold) {
        matches.push({ key: e.key, trigger: e, events: s.recent.map((r) => ({ ...r, key: e.key })) });
      }
    }
    // Forget keys whose newest event is older than a window before the newest event seen.
    const newest = events.length ? events[events.length - 1]!.ts : undefined;
    if (newest !== undefined) {
      for (const [key, s] of Object.entries(next)) {
        if (!s.recent.length || s.recent[s.recent.length - 1]!.ts < newest - options.windowMs) delete next[key];
      }
    }
    return { state: next, matches };
  },
};

/** The registry of rule types, validated at start-up: a rule names one of these. */
export const RULE_TYPES: Record<RuleTypeOptions['name'], RuleType> = { any: anyType, frequency: frequencyType };
