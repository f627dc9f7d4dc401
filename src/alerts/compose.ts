import { DateTime } from 'luxon';
import { IncidentCardData, WorkaroundCardData } from '../cards/card-data';
import { Person, UserDirectory } from '../directory/user-directory';
import { LogEvent } from '../logs/log-event';
import { redactEvent } from '../logs/redact';
import { IncidentRow, IncidentUser } from './alert-state';
import { Rule } from './rule';

/**
 * What the cards of an alert say: the rule's texts with the specifics of the events filled in,
 * times in the reader's zone, secrets masked. Pure: data in, card data out.
 */
export function fillPlaceholders(text: string, event: LogEvent, extra: { time: string; count: number }): string {
  const e = redactEvent(event) as unknown as Record<string, unknown>;
  return text.replace(/\{([a-z._]+)\}/g, (whole, name: string) => {
    if (name === 'time') return extra.time;
    if (name === 'count') return String(extra.count);
    const value = e[name];
    return value === undefined || value === null ? whole.replace(/[{}]/g, '') : String(value);
  });
}

export function formatTime(ts: number, zone: string, withZone = false): string {
  const d = DateTime.fromMillis(ts, { zone });
  return withZone ? `${d.toFormat('ccc d LLL yyyy HH:mm')} ${zone}` : d.toFormat('ccc d LLL HH:mm');
}

function label(person: Person | undefined, userId: string): string {
  return person ? `${person.displayName} (${userId})` : `user ${userId}`;
}

/** One line on what happened to a user first: "PUT /api/documents/11213 (403) at Fri 12 Jun 12:57, document 11213". */
export function eventSummary(event: LogEvent, zone: string): string {
  const e = redactEvent(event);
  const what = [e['http.request.method'], e['url.path']].filter(Boolean).join(' ') || e.message;
  const status = e['http.response.status_code'] ? ` (${e['http.response.status_code']})` : '';
  const where = e['document.id'] ? `, document ${e['document.id']}` : e['entity.id'] ? `, entity ${e['entity.id']}` : '';
  return `${what}${status} at ${formatTime(Date.parse(e['@timestamp']), zone)}${where}`;
}

/** The specifics of an event, as facts on a card. */
export function eventFacts(event: LogEvent, zone: string, count: number): { title: string; value: string }[] {
  const e = redactEvent(event);
  const facts: { title: string; value: string }[] = [];
  const request = [e['http.request.method'], e['url.path']].filter(Boolean).join(' ');
  const status = e['http.response.status_code'] ? `${e['http.response.status_code']} ` : '';
  facts.push({ title: 'What failed', value: request ? `${request} (${status}${e.message})` : e.message });
  facts.push({ title: 'When', value: `${formatTime(Date.parse(e['@timestamp']), zone, true)}${count > 1 ? ` (${count} times)` : ''}` });
  if (e['document.id']) facts.push({ title: 'Document', value: `${e['document.id']}${e['document.type'] ? ` (${e['document.type']})` : ''}` });
  if (e['entity.id']) facts.push({ title: 'Entity', value: e['entity.id'] });
  if (e['source.ip']) facts.push({ title: 'From', value: e['source.ip'] });
  return facts;
}

export function workaroundCardData(rule: Rule, event: LogEvent, count: number, zone: string, incidentId: number | undefined): WorkaroundCardData {
  const time = formatTime(Date.parse(event['@timestamp']), zone);
  const fill = (text: string) => fillPlaceholders(text, event, { time, count });
  return {
    title: fill(rule.card.title),
    problem: fill(rule.card.problem),
    steps: rule.card.workaround.map(fill),
    details: eventFacts(event, zone, count),
    links: rule.card.links,
    status: '',
    statusStyle: 'default',
    ...(incidentId !== undefined ? { feedback: { incidentId, ruleId: rule.id } } : {}),
    feedbackGiven: '',
  };
}

export interface IncidentView {
  rule: Rule;
  incident: IncidentRow;
  users: IncidentUser[];
  /** How each affected user's workaround went: "workaround sent", "not reachable: …". */
  delivery: Map<string, string>;
  directory: UserDirectory;
  zone: string;
  /** Who changed the state last, and when (from the audit trail). */
  stateBy?: { name: string; at: number; note?: string };
  /** For a supervisor's copy: their people among the affected. */
  yourPeople?: IncidentUser[];
  /** "2 helped, 1 still not working". */
  feedback?: string;
  /** The history, shown by `incident <id>`. */
  audit?: { at: string; who: string; what: string }[];
  /** Show the actions on this copy. */
  actions: boolean;
  refreshUserIds: string[];
  escalateTo: { title: string; value: string }[];
}

const MAX_AFFECTED_ROWS = 15;

export function incidentCardData(v: IncidentView): IncidentCardData {
  const { incident, rule, zone } = v;
  const snoozed = incident.snoozedUntil !== undefined && incident.state !== 'resolved';
  const stateText =
    incident.state === 'open' ? 'Open' : incident.state === 'acknowledged' ? 'Acknowledged' : incident.state === 'escalated' ? 'Escalated' : 'Resolved';
  const state = snoozed ? `${stateText}, snoozed until ${formatTime(incident.snoozedUntil!, zone)}` : stateText;
  const stateStyle = incident.state === 'resolved' ? 'good' : incident.state === 'acknowledged' ? 'accent' : incident.state === 'escalated' ? 'warning' : 'attention';
  const users = [...v.users].sort((a, b) => b.lastSeen - a.lastSeen);
  return {
    incidentId: incident.id,
    ruleId: rule.id,
    title: rule.card.title.replace(/\{[a-z._]+\}/g, '').trim() || rule.id,
    description: rule.description,
    state,
    stateStyle,
    stateBy: v.stateBy ? `${stateText} by ${v.stateBy.name}, ${formatTime(v.stateBy.at, zone)}${v.stateBy.note ? `: ${v.stateBy.note}` : ''}` : '',
    facts: [
      { title: 'Rule', value: rule.id },
      { title: 'Affected users', value: String(users.length) },
      { title: 'Events', value: String(incident.events) },
      { title: 'First seen', value: formatTime(incident.firstSeen, zone, true) },
      { title: 'Last seen', value: formatTime(incident.lastSeen, zone, true) },
      ...(v.feedback ? [{ title: 'Feedback', value: v.feedback }] : []),
    ],
    yourPeople: (v.yourPeople ?? []).map((p) => ({ name: label(v.directory.byUserId(p.userId), p.userId), what: p.summary || `${p.events} events` })),
    supervisorNote: v.yourPeople?.length ? (rule.card.supervisorNote ?? '') : '',
    affected: users.slice(0, MAX_AFFECTED_ROWS).map((u) => ({
      name: label(v.directory.byUserId(u.userId), u.userId),
      count: u.events,
      lastSeen: formatTime(u.lastSeen, zone),
      delivery: v.delivery.get(u.userId) ?? 'pending',
    })),
    moreAffected: users.length > MAX_AFFECTED_ROWS ? `and ${users.length - MAX_AFFECTED_ROWS} more users` : '',
    actions: v.actions,
    canAcknowledge: incident.state === 'open' || incident.state === 'escalated',
    canAct: incident.state !== 'resolved',
    refreshUserIds: v.refreshUserIds.slice(0, 60),
    escalateTo: v.escalateTo,
    audit: v.audit ?? [],
  };
}
