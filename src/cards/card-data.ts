/**
 * The data each card template in cards/ is rendered with: one interface per template. Values are
 * already formatted for people (times in the reader's zone, secrets masked); templates only lay
 * them out.
 */

/** cards/answer-list.json: events that answer a question. */
export interface AnswerListCardData {
  question: string;
  interpretation: string;
  /** "2 events", "41 events, 1–10 shown". */
  summary: string;
  timeZone: string;
  rows: {
    /** "Fri 12 Jun 12:57:15" in the reader's zone. */
    time: string;
    level: string;
    /** Adaptive Card text color for the level: attention (error, fatal), warning, default. */
    levelColor: 'attention' | 'warning' | 'default';
    user: string;
    message: string;
    /** Provenance, e.g. APP01/api/2020-06-12.log:866. */
    source: string;
  }[];
  notes: string[];
  /** Present when there are more events: the Action.Execute data of the "Show more" button. */
  more?: { verb: 'answer.more'; question: string; offset: number; now: string; timeZone: string };
}

/** cards/answer-chart.json: counts per key or per hour/day, drawn as a chart with the numbers beside it. */
export interface AnswerChartCardData {
  question: string;
  interpretation: string;
  /** "41 events". */
  summary: string;
  /** Chart.VerticalBar for time buckets and few keys; Chart.HorizontalBar for many or long keys. */
  chart: 'Chart.VerticalBar' | 'Chart.HorizontalBar';
  chartTitle: string;
  xAxisTitle: string;
  yAxisTitle: string;
  bars: { x: string; y: number }[];
  /** The same numbers as a table (screen readers, clients without charts). */
  rows: { key: string; count: number }[];
  /** "and 12 events with other values", empty when none. */
  other: string;
  notes: string[];
}

/** cards/answer-count.json: how many. */
export interface AnswerCountCardData {
  question: string;
  interpretation: string;
  total: number;
  notes: string[];
}

/** cards/not-understood.json: what the parser could not read, with examples to try. */
export interface NotUnderstoodCardData {
  question: string;
  problems: string[];
  examples: string[];
}

/** cards/help.json. */
export interface HelpCardData {
  name: string;
  role: string;
  /** Groups of example questions. */
  sections: { title: string; examples: string[] }[];
  commands: { usage: string; description: string }[];
}

/** cards/error.json: a short apology with the correlation id support can search the logs for. */
export interface ErrorCardData {
  correlationId: string;
}

/** cards/notice.json: a short message (refusals, confirmations). */
export interface NoticeCardData {
  title: string;
  text: string;
  /** attention for refusals, good for confirmations, default otherwise. */
  style: 'default' | 'attention' | 'good' | 'warning';
}

/** cards/welcome.json: sent when the app is installed or a person first writes. */
export interface WelcomeCardData {
  name: string;
  role: string;
  /** What this role can do, one sentence. */
  canDo: string;
  examples: string[];
}

/** A label and a value shown side by side (what failed, when, which document). */
export interface Fact {
  title: string;
  value: string;
}

/** cards/workaround.json: the card the affected user gets (and its updates). */
export interface WorkaroundCardData {
  title: string;
  /** What happened to them, with the specifics filled in. */
  problem: string;
  steps: string[];
  details: Fact[];
  links: { title: string; url: string }[];
  /** A banner once something changed (e.g. "Fixed in 2.4.1: …"); empty when nothing did. */
  status: string;
  statusStyle: 'good' | 'warning' | 'default';
  /** Present while feedback is wanted: the data of the "This helped" / "Still not working" buttons (signed). */
  feedback?: { incidentId: number; ruleId: string; sig?: string };
  /** Text under the buttons once feedback was given ("Thanks, recorded."). */
  feedbackGiven: string;
}

/** cards/incident.json: an incident for supervisors and the support channel, with its actions. */
export interface IncidentCardData {
  incidentId: number;
  ruleId: string;
  title: string;
  description: string;
  /** open, acknowledged, escalated, resolved, snoozed until …; with who and when. */
  state: string;
  stateStyle: 'attention' | 'warning' | 'good' | 'accent' | 'default';
  /** "Acknowledged by Ines Okafor, Fri 12 Jun 13:05": empty while open. */
  stateBy: string;
  facts: Fact[];
  /** For a supervisor: their people among the affected, with what happened to each. */
  yourPeople: { name: string; what: string }[];
  supervisorNote: string;
  affected: { name: string; count: number; lastSeen: string; delivery: string }[];
  /** "and 12 more users" when the list is cut. */
  moreAffected: string;
  /** Whether this copy shows the actions (the card's refresh makes them appear for supervisors and support only). */
  actions: boolean;
  /** Acknowledge is offered (not for acknowledged or resolved incidents). */
  canAcknowledge: boolean;
  /** The incident is not resolved: escalate, resolve and snooze are offered. */
  canAct: boolean;
  /** Aad object ids for which Teams refreshes the card to the version with actions (at most 60). */
  refreshUserIds: string[];
  /** Choices for "Escalate to". */
  escalateTo: { title: string; value: string }[];
  /** Signature of the incident id in the buttons' data: an edited card is refused. */
  sig?: string;
  /** The history (for `incident <id>`); empty on the copies sent around. */
  audit: { at: string; who: string; what: string }[];
}

/** cards/incident-list.json: the answer to `incidents`. */
export interface IncidentListCardData {
  title: string;
  /** Shown when there are no rows. */
  empty: string;
  rows: { id: number; title: string; ruleId: string; state: string; users: number; lastSeen: string }[];
}

/** cards/fixed.json: sent to each affected user when an incident is resolved. */
export interface FixedCardData {
  title: string;
  message: string;
  /** "Resolved by Ines Okafor, Fri 12 Jun 15:00". */
  by: string;
}

/** cards/rule-draft.json: a rule drafted from a chat question, with what a person completes before saving. */
export interface RuleDraftCardData {
  question: string;
  interpretation: string;
  /** Why the last save was refused (validation problems); empty at first. */
  problems: string[];
  /** "Saved as rules/x.yaml …" once saved (the button goes away); empty before. */
  saved: string;
  id: string;
  title: string;
  problem: string;
  /** Steps, one per line. */
  workaround: string;
  /** "true" or "false" (the toggle's value). */
  enabled: string;
  /** The rule file as it would be written. */
  yaml: string;
  /** Signature of the question: the draft cannot be edited into another question. */
  sig: string;
}
