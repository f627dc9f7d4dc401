import assert from 'node:assert/strict';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { Filter } from '../../src/query/log-query';
import { parseQuestion, ParseContext } from '../../src/query/parse-question';
import { SAMPLE_DIRECTORY } from '../support/truth';

const ctx: ParseContext = {
  now: new Date('2020-06-12T16:30:00+02:00'),
  timeZone: 'Europe/Berlin',
  directory: loadUserDirectory(SAMPLE_DIRECTORY),
  vocabulary: { hosts: ['APP01', 'APP02'], datasets: ['api', 'auth'], documentTypes: ['Service Hours Adjustment', 'Timesheet'] },
  limit: 50,
};

const ERRORS: Filter = { op: 'in', field: 'log.level', values: ['error', 'fatal'] };

/** Question → how it is read (interpretation) and the query it becomes. */
const READINGS: [string, string, Partial<{ filters: Filter[]; time: { gte: string; lt: string }; shape: unknown }>][] = [
  ['show errors for user 1087 today', 'errors for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin', {
    filters: [ERRORS, { op: 'eq', field: 'user.id', value: '1087' }],
    time: { gte: '2020-06-11T22:00:00.000Z', lt: '2020-06-12T14:30:00.000Z' },
    shape: { kind: 'list', limit: 50 },
  }],
  ['how many failed logins yesterday', 'count of failed logins in the auth log, Thu 11 Jun 2020 00:00–24:00 Europe/Berlin', {
    filters: [{ op: 'eq', field: 'event.dataset', value: 'auth' }, { op: 'prefix', field: 'message', value: 'Login failed' }],
    shape: { kind: 'count' },
  }],
  ['count errors by node this week', 'count of errors by node, Mon 8 Jun 2020 00:00 – Fri 12 Jun 2020 16:30 Europe/Berlin', {
    shape: { kind: 'terms', field: 'host.name', size: 50 },
    time: { gte: '2020-06-07T22:00:00.000Z', lt: '2020-06-12T14:30:00.000Z' },
  }],
  ['errors per hour today', 'count of errors per hour, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin', {
    shape: { kind: 'histogram', interval: 'hour', timeZone: 'Europe/Berlin' },
  }],
  ['top 5 errors this week', 'top 5 errors by message, Mon 8 Jun 2020 00:00 – Fri 12 Jun 2020 16:30 Europe/Berlin', {
    shape: { kind: 'terms', field: 'message', size: 5 },
  }],
  ['show "Failed to perform." errors since Wednesday', 'errors with "Failed to perform.", Wed 10 Jun 2020 00:00 – Fri 12 Jun 2020 16:30 Europe/Berlin', {
    filters: [ERRORS, { op: 'phrase', field: 'message', value: 'Failed to perform.' }],
  }],
  ['errors from 198.51.100.0/24 except 403', 'errors from 198.51.100.0/24, without status 403, all time', {
    filters: [ERRORS, { op: 'cidr', field: 'source.ip', value: '198.51.100.0/24' }, { op: 'not', filter: { op: 'eq', field: 'http.response.status_code', value: 403 } }],
  }],
  ['warnings on APP02 between 10:00 and 11:30 yesterday', 'warnings on APP02, Thu 11 Jun 2020 10:00–11:30 Europe/Berlin', {
    filters: [{ op: 'eq', field: 'log.level', value: 'warn' }, { op: 'eq', field: 'host.name', value: 'APP02' }],
  }],
  ['errors for y.larsen at 13:27', 'errors for user 1155 (y.larsen), Fri 12 Jun 2020 13:22–13:32 Europe/Berlin', {}],
  ["Yusuf Larsen's errors on June 10", 'errors for user 1155 (Yusuf Larsen), Wed 10 Jun 2020 00:00–24:00 Europe/Berlin', {}],
  ['all logs in the last 15 minutes', 'all events, Fri 12 Jun 2020 16:15–16:30 Europe/Berlin', { filters: [] }],
  ['5xx not from APP01 on 2020-06-10', 'events with status 5xx, not on APP01, Wed 10 Jun 2020 00:00–24:00 Europe/Berlin', {}],
  ['errors on /api/documents', 'errors on /api/documents, all time', {
    filters: [ERRORS, { op: 'any', filters: [{ op: 'eq', field: 'url.path', value: '/api/documents' }, { op: 'prefix', field: 'url.path', value: '/api/documents/' }] }],
  }],
  ['Timesheet errors per day', 'count of errors on Timesheet documents per day, all time', {}],
  ['errors on /api/entities without parameter isAcknowledged since Wednesday', 'errors on /api/entities, without parameter isAcknowledged, Wed 10 Jun 2020 00:00 – Fri 12 Jun 2020 16:30 Europe/Berlin', {
    filters: [
      ERRORS,
      { op: 'any', filters: [{ op: 'eq', field: 'url.path', value: '/api/entities' }, { op: 'prefix', field: 'url.path', value: '/api/entities/' }] },
      { op: 'not', filter: { op: 'exists', field: 'params.isAcknowledged' } },
    ],
  }],
];

describe('parseQuestion: readings', () => {
  for (const [question, interpretation, query] of READINGS) {
    it(question, () => {
      const r = parseQuestion(question, ctx);
      assert.ok(r.ok, !r.ok ? r.problems.join(' ') : '');
      assert.equal(r.interpretation, interpretation);
      for (const [key, value] of Object.entries(query)) assert.deepEqual((r.query as unknown as Record<string, unknown>)[key], value, key);
    });
  }

  it('is pure: the same question and context give the same query', () => {
    assert.deepEqual(parseQuestion('count errors by user this week', ctx), parseQuestion('count errors by user this week', ctx));
  });

  it('reads "me" as the asker', () => {
    const r = parseQuestion('what went wrong for me today?', { ...ctx, askerUserId: '1087' });
    assert.ok(r.ok);
    assert.deepEqual(r.userIds, ['1087']);
    assert.equal(r.interpretation, 'problems for user 1087, Fri 12 Jun 2020 00:00–16:30 Europe/Berlin');
  });

  it('notes a user id that is not in the directory, and still reads it exactly', () => {
    const r = parseQuestion('errors for user 9999', ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.notes, ['User 9999 is not in the directory.']);
  });

  it('never extends a range past now', () => {
    const r = parseQuestion('errors since 16:00', ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.query.time, { gte: '2020-06-12T14:00:00.000Z', lt: '2020-06-12T14:30:00.000Z' });
  });
});

/** Question → what the answer must say it did not understand. */
const REFUSALS: [string, RegExp][] = [
  ['errors for nobody', /no user, node or log called 'nobody'/],
  ['errors for x.unknown', /no user 'x.unknown' in the directory/],
  ['errors for user Zaphod', /no user 'Zaphod'/],
  ['errors for Anna Ivanova', /More than one person is called Anna Ivanova: user \d+ \(a\.ivanova\)/],
  ['show 1087', /What is 1087\? Say user 1087, document 1087/],
  ['errors for me', /who 'me' is/],
  ['errors blorp today', /did not understand 'blorp'/],
  ['errors since Someday', /after 'since' I expected a day or a time/],
  ['errors yesterday this week', /one time range/],
  ['errors at 18:00', /has not happened yet/],
  ['errors between 11:00 and 10:00', /the end is not after the start/],
  ['errors grouped by colour', /cannot group by 'colour'/],
  ['show "..."', /no words to search for/],
  ['status 999', /999 is not an HTTP status/],
];

describe('parseQuestion: what it does not understand it says, with examples', () => {
  for (const [question, problem] of REFUSALS) {
    it(question, () => {
      const r = parseQuestion(question, ctx);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.match(r.problems.join(' '), problem);
      assert.ok(r.examples.includes('show errors for user 1087 today'));
    });
  }
});
