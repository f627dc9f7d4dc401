import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rule } from '../../src/alerts/rule';
import {
  createRuleValidator, formatDuration, formatProblems, loadRules, parseDuration, parseRuleFile, ruleToYaml, RuleProblem,
} from '../../src/alerts/rule-loader';
import { JsonSchema, ruleJsonSchema, ruleJsonSchemaText } from '../../src/alerts/rule-schema';
import { loadUserDirectory } from '../../src/directory/user-directory';
import { projectPath } from '../../src/paths';
import { Filter } from '../../src/query/log-query';
import { ParseContext, parseQuestion } from '../../src/query/parse-question';
import { EvalEvent, matchesAll, truthToEvent } from '../support/filter-eval';
import { tempDir } from '../support/stores';
import { SAMPLE_DIRECTORY, truthEvents, truthScenarios } from '../support/truth';

const RULES_DIR = projectPath('rules');
const validator = createRuleValidator();

function seedRules(): Map<string, Rule> {
  const { rules, problems } = loadRules(RULES_DIR);
  assert.equal(formatProblems(problems), '');
  return new Map(rules.map((r) => [r.id, r]));
}

const ERROR: Filter = { op: 'eq', field: 'log.level', value: 'error' };

/** What each seed rule compiles to: the contract with the scenarios of the sample data. */
const SEEDS: Record<string, Omit<Rule, 'description' | 'card' | 'file'>> = {
  'ack-missing': {
    id: 'ack-missing',
    enabled: true,
    filters: [
      ERROR,
      { op: 'eq', field: 'event.dataset', value: 'api' },
      { op: 'phrase', field: 'message', value: 'Failed to perform.' },
      { op: 'eq', field: 'http.response.status_code', value: 422 },
      { op: 'wildcard', field: 'url.path', value: '/api/entities/*' },
      { op: 'not', filter: { op: 'exists', field: 'params.isAcknowledged' } },
    ],
    type: { name: 'frequency', threshold: 2, windowMs: 3_600_000 },
    key: 'user.id',
    realertMs: 7 * 86_400_000,
    recipients: { affected: true, supervisor: false, channel: true },
  },
  'forbidden-edit': {
    id: 'forbidden-edit',
    enabled: true,
    filters: [
      ERROR,
      { op: 'eq', field: 'event.dataset', value: 'api' },
      { op: 'phrase', field: 'message', value: 'Not authorized' },
      { op: 'eq', field: 'http.response.status_code', value: 403 },
      { op: 'eq', field: 'document.type', value: 'Service Hours Adjustment' },
    ],
    type: { name: 'any' },
    key: 'user.id',
    realertMs: 86_400_000,
    recipients: { affected: true, supervisor: true, channel: true },
  },
  'password-special-chars': {
    id: 'password-special-chars',
    enabled: true,
    filters: [
      ERROR,
      { op: 'eq', field: 'event.dataset', value: 'auth' },
      { op: 'prefix', field: 'message', value: 'Login failed' },
      { op: 'eq', field: 'error.type', value: 'System.FormatException' },
      { op: 'contains', field: 'error.stack_trace', value: 'at Contoso.Auth.PasswordHasher.' },
    ],
    type: { name: 'any' },
    key: 'user.id',
    realertMs: 86_400_000,
    recipients: { affected: true, supervisor: false, channel: true },
  },
  'web-proxy': {
    id: 'web-proxy',
    enabled: true,
    filters: [
      ERROR,
      { op: 'eq', field: 'event.dataset', value: 'auth' },
      { op: 'cidr', field: 'source.ip', value: '198.51.100.0/24' },
      { op: 'phrase', field: 'message', value: 'unsupported client (request forwarded by web proxy' },
    ],
    type: { name: 'any' },
    key: 'user.id',
    realertMs: 86_400_000,
    recipients: { affected: true, supervisor: false, channel: true },
  },
};

describe('alert rule files', () => {
  describe('the seed rules in rules/', () => {
    it('load with no problems and compile to the expected rules', () => {
      const rules = seedRules();
      assert.deepEqual([...rules.keys()].sort(), Object.keys(SEEDS).sort());
      for (const [id, want] of Object.entries(SEEDS)) {
        const rule = rules.get(id)!;
        const { description: _d, card: _c, file, ...got } = rule;
        assert.deepEqual(got, want, id);
        assert.equal(file, join(RULES_DIR, `${id}.yaml`));
      }
    });

    it('have real cards: steps, a supervisor note where supervisors are told, and only known placeholders', () => {
      for (const rule of seedRules().values()) {
        assert.ok(rule.card.workaround.length >= 2, `${rule.id}: a workaround is steps`);
        assert.equal(rule.recipients.supervisor, rule.card.supervisorNote !== undefined, rule.id);
        const texts = [rule.card.title, rule.card.problem, ...rule.card.workaround, rule.card.supervisorNote ?? ''];
        assert.ok(!texts.some((t) => /TODO|lorem|\.\.\./i.test(t)), `${rule.id}: no stub text`);
      }
      const rules = seedRules();
      assert.match(rules.get('forbidden-edit')!.card.problem, /\{document\.id\}/);
      assert.match(rules.get('ack-missing')!.card.problem, /\{entity\.id\}/);
      assert.match(rules.get('ack-missing')!.card.problem, /\{time\}/);
    });

    describe('select exactly their scenario in test/fixtures/contoso/truth/events.jsonl', () => {
      const events = (): { scenario: string | null; source: string; userId?: number; time: string; event: EvalEvent }[] =>
        truthEvents().map((t) => ({ scenario: t.scenario, source: t.source, userId: t.userId, time: t.time, event: truthToEvent(t) }));

      for (const id of Object.keys(SEEDS)) {
        it(id, () => {
          const rule = seedRules().get(id)!;
          const all = events();
          const selected = all.filter((e) => matchesAll(rule.filters, e.event)).map((e) => e.source);
          const expected = all.filter((e) => e.scenario === id).map((e) => e.source);
          assert.ok(expected.length > 0);
          assert.deepEqual(selected, expected);
        });
      }

      it('ack-missing as a frequency rule picks exactly the repeaters, not the one-off users', () => {
        const rule = seedRules().get('ack-missing')!;
        assert.equal(rule.type.name, 'frequency');
        if (rule.type.name !== 'frequency') return;
        const { threshold, windowMs } = rule.type;
        const times = new Map<number, number[]>();
        for (const e of events()) {
          if (!matchesAll(rule.filters, e.event)) continue;
          times.set(e.userId!, [...(times.get(e.userId!) ?? []), Date.parse(e.time)]);
        }
        const told = [...times].filter(([, ts]) => ts.some((t, i) => i + threshold - 1 < ts.length && ts[i + threshold - 1]! - t <= windowMs)).map(([u]) => u);
        const scenario = truthScenarios().scenarios['ack-missing'];
        assert.deepEqual(told.sort(), [...scenario.repeaters].sort());
        assert.deepEqual([...times.keys()].sort(), [...scenario.repeaters, ...scenario.oneOff].sort());
      });

      it('the other rules reach exactly the affected users of their scenario', () => {
        const s = truthScenarios().scenarios;
        const affected: Record<string, number[]> = {
          'forbidden-edit': s['forbidden-edit'].affected.map((a) => a.userId),
          'password-special-chars': s['password-special-chars'].affected,
          'web-proxy': s['web-proxy'].affected,
        };
        const all = events();
        for (const [id, users] of Object.entries(affected)) {
          const rule = seedRules().get(id)!;
          const got = new Set(all.filter((e) => matchesAll(rule.filters, e.event)).map((e) => e.userId));
          assert.deepEqual([...got].sort(), [...users].sort(), id);
        }
      });
    });
  });

  describe('invalid files', () => {
    const CARD = ['card:', '  title: Something failed', '  problem: It failed at {time}.', '  workaround: [Try again]'];
    /** A rule file of these lines followed by a valid card (so line numbers are those of `lines`). */
    const rule = (...lines: string[]) => `${[...lines, ...CARD].join('\n')}\n`;
    const HEAD = ['id: t', 'description: A test rule', 'type: any'];
    const WHERE = (...items: string[]) => ['filter:', '  where:', ...items.map((i) => `    ${i}`)];

    /** File text → the one problem it has: line, column (0: not checked) and what the message says. */
    const CASES: [string, string, number, number, RegExp][] = [
      ['bad YAML (unclosed flow list)', 'id: t\ndescription: [oops\ntype: any\n', 3, 1, /^YAML: Flow sequence .*indent/],
      ['tab indentation', 'id: t\n\tdescription: x\n', 2, 1, /tabs are not allowed.*indent with spaces/],
      ['a key twice', rule(...HEAD, 'type: any', 'filter: { levels: [error] }'), 4, 1, /^YAML: Map keys must be unique.*keep one/],
      ['unknown key', rule(...HEAD, 'realret: 1h', 'filter: { levels: [error] }'), 4, 1, /'realret' is not a key of a rule \(did you mean 'realert'\?\); use id, description/],
      ['unknown field', rule(...HEAD, ...WHERE('- usr.id: "1087"')), 6, 7, /'usr\.id' is not a field \(did you mean 'user\.id'\?\)/],
      ['unknown field, nothing close', rule(...HEAD, ...WHERE('- colour: red')), 6, 7, /'colour' is not a field; a where item names one of: .*user\.id.*params\.<name>, or any \/ not/],
      ['bad CIDR block', rule(...HEAD, ...WHERE('- source.ip: { cidr: 198.51.100.0/33 }')), 6, 26, /source\.ip: '198\.51\.100\.0\/33' is not an IP address or CIDR block; write an address .* or a block \(198\.51\.100\.0\/24\)/],
      ['bad address as the value alone', rule(...HEAD, ...WHERE('- source.ip: 300.1.1.1')), 6, 18, /'300\.1\.1\.1' is not an IP address/],
      ['phrase without words', rule(...HEAD, ...WHERE('- message: { phrase: "..." }')), 6, 26, /message phrase: '\.\.\.' has no words to search for; .*for exact text use contains/],
      ['bad duration', rule(...HEAD, 'realert: 60 minutes', 'filter: { levels: [error] }'), 4, 10, /^realert: '60 minutes' is not a duration; write .*60m, 1h/],
      ['duration without unit', rule(...HEAD, 'realert: 60', 'filter: { levels: [error] }'), 4, 10, /^realert: 60 is not a duration/],
      ['frequency without window', rule('id: t', 'description: d', 'type: frequency', 'threshold: 2', 'filter: { levels: [error] }'), 3, 7, /^type: frequency needs window: .*e\.g\. window: 60m/],
      ['frequency with threshold 1', rule('id: t', 'description: d', 'type: frequency', 'threshold: 1', 'window: 1h', 'filter: { levels: [error] }'), 4, 12, /^threshold: 1 is too small; .*at least 2 .*use type: any/],
      ['any with threshold', rule(...HEAD, 'threshold: 3', 'filter: { levels: [error] }'), 4, 1, /^threshold is only for type: frequency/],
      ['window over 30d', rule('id: t', 'description: d', 'type: frequency', 'threshold: 2', 'window: 45d', 'filter: { levels: [error] }'), 5, 9, /^window: 45d is longer than 30d/],
      ['realert over 365d', rule(...HEAD, 'realert: 400d', 'filter: { levels: [error] }'), 4, 10, /^realert: 400d is longer than 365d/],
      ['supervisor without note', rule(...HEAD, 'recipients: { supervisor: true }', 'filter: { levels: [error] }'), 6, 1, /recipients\.supervisor is true, so the card needs supervisorNote/],
      ['unknown placeholder', `${[...HEAD, 'filter: { levels: [error] }', 'card:', '  title: T', '  problem: You changed {doc.id}.', '  workaround: [Wait]'].join('\n')}\n`, 7, 12,
        /^card\.problem: \{doc\.id\} is not a placeholder \(did you mean \{document\.id\}\?\); placeholders are \{time\}/],
      ['affected user with key host.name', rule(...HEAD, 'key: host.name', 'filter: { levels: [error] }'), 4, 6, /^key: host\.name does not name a person, but recipients\.affected is true \(the default\); .*needs key: user\.id/],
      ['nobody to tell', rule(...HEAD, 'recipients: { affected: false, channel: false }', 'filter: { levels: [error] }'), 4, 1, /nobody would be told/],
      ['wrong type of value', rule(...HEAD, 'enabled: yes', 'filter: { levels: [error] }'), 4, 10, /^enabled: 'yes' is not true or false/],
      ['quoted number', rule(...HEAD, ...WHERE('- http.response.status_code: "403"')), 6, 34, /'403' is not a whole number; write the number without quotes/],
      ['number where text is meant', rule(...HEAD, ...WHERE('- error.message: { contains: 404 }')), 6, 34, /^error\.message contains: 404 is not text; put it in quotes: "404"/],
      ['empty where item', rule(...HEAD, ...WHERE('-', '- host.name: APP01')), 6, 0, /^where item 1 is empty; write one field and its condition/],
      ['item with two fields', rule(...HEAD, ...WHERE('- host.name: APP01', '  user.id: 1087')), 6, 7, /^where item 1 has 2 fields \(host\.name, user\.id\); .*on its own line/],
      ['unknown condition', rule(...HEAD, ...WHERE('- url.path: { startswith: /api }')), 6, 19, /'startswith' is not a condition for url\.path \(did you mean 'startsWith'\?\); url\.path takes equals, in/],
      ['two conditions in one item', rule(...HEAD, ...WHERE('- host.name: { equals: APP01, in: [APP02] }')), 6, 18, /one condition per where item \(found equals and in\)/],
      ['message compared whole', rule(...HEAD, ...WHERE('- message: Not authorized')), 6, 16, /^message needs a condition such as \{ phrase: \.\.\. \}/],
      ['ignoreCase alone', rule(...HEAD, ...WHERE('- host.name: { ignoreCase: true }')), 6, 18, /ignoreCase goes with equals/],
      ['gte above lte', rule(...HEAD, ...WHERE('- http.response.status_code: { gte: 599, lte: 500 }')), 6, 34, /gte 599 is above lte 500, so nothing can match/],
      ['nested bad CIDR', rule(...HEAD, ...WHERE('- any:', '    - host.name: APP01', '    - not: { source.ip: { cidr: nope } }')), 8, 37, /'nope' is not an IP address/],
      ['filter without conditions', rule(...HEAD, 'filter: {}'), 4, 1, /filter needs levels, where or both/],
      ['unknown level', rule(...HEAD, 'filter:', '  levels: [eror]'), 5, 12, /'eror' is not one of trace, .*\(did you mean 'error'\?\)/],
      ['bad id', rule('id: Forbidden_Edit', 'description: d', 'type: any', 'filter: { levels: [error] }'), 1, 5, /^id: 'Forbidden_Edit' is not a rule id; use lower-case letters/],
      ['missing card', 'id: t\ndescription: d\ntype: any\nfilter: { levels: [error] }\n', 1, 1, /^the rule is missing 'card' \(The workaround card\.\)/],
      ['a list, not a rule', '- a\n- b\n', 1, 1, /a rule file is a mapping of keys/],
      ['empty file', '', 1, 1, /the file is empty/],
    ];

    for (const [name, text, line, column, message] of CASES) {
      it(name, () => {
        const result = parseRuleFile(text, 'rules/t.yaml', validator);
        assert.equal(result.rule, undefined);
        assert.equal(result.problems.length, 1, formatProblems(result.problems));
        const [p] = result.problems as [RuleProblem];
        assert.equal(p.file, 'rules/t.yaml');
        assert.equal(p.line, line, formatProblems(result.problems));
        if (column) assert.equal(p.column, column, formatProblems(result.problems));
        assert.match(p.message, message);
      });
    }

    it('reports every problem of a file, in line order', () => {
      const text = rule('id: t', 'description: d', 'type: any', 'realret: 1h', ...WHERE('- usr.id: 1', '- source.ip: { cidr: x }'));
      const { problems } = parseRuleFile(text, 'x.yaml', validator);
      assert.deepEqual(problems.map((p) => p.line), [4, 7]);
    });

    it('a valid file parses without a validator passed in', () => {
      const text = readFileSync(join(RULES_DIR, 'web-proxy.yaml'), 'utf8');
      const { rule: parsed, problems } = parseRuleFile(text, 'web-proxy.yaml');
      assert.deepEqual(problems, []);
      assert.equal(parsed?.id, 'web-proxy');
    });
  });

  describe('loadRules', () => {
    const valid = (id: string) => readFileSync(join(RULES_DIR, 'web-proxy.yaml'), 'utf8').replace('id: web-proxy', `id: ${id}`);

    it('reports an id used in two files in both files and loads neither; the others load', () => {
      const dir = tempDir();
      try {
        writeFileSync(join(dir.path, 'a.yaml'), valid('same'));
        writeFileSync(join(dir.path, 'b.yml'), `# a comment line\n${valid('same')}`);
        writeFileSync(join(dir.path, 'c.yaml'), valid('other'));
        const { rules, problems } = loadRules(dir.path);
        assert.deepEqual(rules.map((r) => r.id), ['other']);
        assert.deepEqual(problems.map((p) => [p.file, p.line]), [[join(dir.path, 'a.yaml'), 2], [join(dir.path, 'b.yml'), 3]]);
        assert.match(problems[0]!.message, new RegExp(`^id 'same' is also used by ${join(dir.path, 'b.yml')}:3; ids must be unique`));
        assert.match(problems[1]!.message, new RegExp(`is also used by ${join(dir.path, 'a.yaml')}:2`));
      } finally {
        dir.remove();
      }
    });

    it('reads only *.yaml / *.yml directly in the folder, sorted; a bad file does not stop the others', () => {
      const dir = tempDir();
      try {
        writeFileSync(join(dir.path, 'z.yaml'), valid('zeta'));
        writeFileSync(join(dir.path, 'a.YML'), valid('alpha'));
        writeFileSync(join(dir.path, 'broken.yaml'), 'id: [\n');
        writeFileSync(join(dir.path, 'notes.txt'), 'id: not-a-rule\n');
        writeFileSync(join(dir.path, '.draft.yaml'), 'id: [\n');
        mkdirSync(join(dir.path, 'sub'));
        writeFileSync(join(dir.path, 'sub', 'inner.yaml'), valid('inner'));
        const { rules, problems } = loadRules(dir.path);
        assert.deepEqual(rules.map((r) => r.id), ['alpha', 'zeta']);
        assert.deepEqual(problems.map((p) => p.file), [join(dir.path, 'broken.yaml')]);
      } finally {
        dir.remove();
      }
    });

    it('says so when the folder cannot be read', () => {
      const { rules, problems } = loadRules(join(RULES_DIR, 'no-such-folder'));
      assert.deepEqual(rules, []);
      assert.match(formatProblems(problems), /no-such-folder:1:1: cannot read the rules directory \(ENOENT\)/);
    });
  });

  describe('ruleToYaml (rule from a question)', () => {
    const ctx: ParseContext = {
      now: new Date('2020-06-12T16:30:00+02:00'),
      timeZone: 'Europe/Berlin',
      directory: loadUserDirectory(SAMPLE_DIRECTORY),
      vocabulary: { hosts: ['APP01', 'APP02'], datasets: ['api', 'auth'], documentTypes: ['Service Hours Adjustment'] },
    };
    const QUESTIONS = [
      'show errors for user 1087 today',
      'how many failed logins yesterday',
      'errors from 198.51.100.0/24 except 403',
      '5xx not from APP01 on 2020-06-10',
      'errors on /api/entities without parameter isAcknowledged since Wednesday',
      'show "Failed to perform." errors since Wednesday',
      'warnings on node app03',
      'errors on /api/entities/*',
      'Service Hours Adjustment errors',
      'problems for y.larsen',
      'not found errors on APP02',
      'errors except warnings',
      "Yusuf Larsen's errors on June 10",
      'show logs for document 11213',
      'errors for entity 6523 in the auth log',
      'successful logins from 10.20.5.122',
    ];

    for (const question of QUESTIONS) {
      it(question, () => {
        const parsed = parseQuestion(question, ctx);
        assert.ok(parsed.ok, JSON.stringify(parsed));
        const filters = parsed.query.filters;
        assert.ok(filters.length > 0);
        const text = ruleToYaml({ id: 'from-question', description: question, filters, question });
        const back = parseRuleFile(text, 'from-question.yaml', validator);
        assert.deepEqual(back.problems, [], `${formatProblems(back.problems)}\n${text}`);
        assert.deepEqual(back.rule!.filters, filters, text);
        assert.equal(back.rule!.enabled, false, 'a draft never alerts until someone enables it');
      });
    }

    it('writes every filter form back exactly', () => {
      const filters: Filter[] = [
        { op: 'eq', field: 'user.id', value: '1087' },
        { op: 'eq', field: 'log.level', value: 'warn' },
        { op: 'eq', field: 'host.name', value: 'app01', caseInsensitive: true },
        { op: 'eq', field: 'params.state', value: 'InReview' },
        { op: 'eq', field: 'params.isAcknowledged', value: 'true' },
        { op: 'in', field: 'http.response.status_code', values: [401, 403] },
        { op: 'in', field: 'document.id', values: ['11213', '11688'] },
        { op: 'range', field: 'event.duration', gte: 1_000_000 },
        { op: 'range', field: 'http.response.status_code', lte: 299 },
        { op: 'cidr', field: 'source.ip', value: '10.20.0.0/16' },
        { op: 'cidr', field: 'source.ip', value: '2001:db8::/32' },
        { op: 'phrase', field: 'message', value: 'Failed to perform.' },
        { op: 'prefix', field: 'error.message', value: 'The input: ' },
        { op: 'contains', field: 'error.stack_trace', value: 'PasswordHasher' },
        { op: 'wildcard', field: 'http.route', value: '/api/*/{id}' },
        { op: 'exists', field: 'document.id' },
        { op: 'not', filter: { op: 'exists', field: 'params.isAcknowledged' } },
        { op: 'not', filter: { op: 'in', field: 'host.name', values: ['APP01', 'APP02'] } },
        { op: 'not', filter: { op: 'cidr', field: 'source.ip', value: '198.51.100.7' } },
        { op: 'not', filter: { op: 'phrase', field: 'message', value: 'timeout' } },
        { op: 'not', filter: { op: 'not', filter: { op: 'eq', field: 'entity.id', value: '1' } } },
        { op: 'any', filters: [{ op: 'eq', field: 'entity.id', value: '6523' }, { op: 'not', filter: { op: 'eq', field: 'host.name', value: 'x', caseInsensitive: true } }] },
      ];
      const text = ruleToYaml({ id: 'all-forms', description: 'every form', filters });
      const back = parseRuleFile(text, 'all-forms.yaml', validator);
      assert.deepEqual(back.problems, [], `${formatProblems(back.problems)}\n${text}`);
      assert.deepEqual(back.rule!.filters, filters);
      assert.match(text, /# compared without regard to case\n\s+- host\.name: \{ equals: app01, ignoreCase: true \}/);
      assert.match(text, /- params\.isAcknowledged: \{ missing: true \}/);
    });

    it('writes a whole rule back: the seed rules survive the round trip', () => {
      for (const rule of seedRules().values()) {
        const back = parseRuleFile(ruleToYaml(rule), rule.file, validator);
        assert.deepEqual(back.problems, []);
        assert.deepEqual(back.rule, rule);
      }
    });

    it('starts with the schema line and says what a draft leaves out', () => {
      const text = ruleToYaml({ id: 'd', description: 'd', filters: [ERROR], question: 'errors today' });
      assert.match(text, /^# yaml-language-server: \$schema=\.\/rule\.schema\.json\n# Drafted from the chat question: errors today\n# A rule watches new events/);
      assert.match(text, /\nenabled: false\n/);
    });
  });

  describe('durations', () => {
    it('parse and format', () => {
      assert.equal(parseDuration('90s'), 90_000);
      assert.equal(parseDuration('60m'), 3_600_000);
      assert.equal(parseDuration('7d'), 604_800_000);
      assert.equal(parseDuration('60 minutes'), undefined);
      assert.equal(parseDuration('1h30m'), undefined);
      assert.deepEqual([3_600_000, 5_400_000, 90_000, 604_800_000, 0, 1500].map(formatDuration), ['1h', '90m', '90s', '7d', '0m', '2s']);
    });
  });

  describe('rules/rule.schema.json', () => {
    it('is what ruleJsonSchema() gives (regenerate: supportbot rules schema > rules/rule.schema.json)', () => {
      const committed = readFileSync(join(RULES_DIR, 'rule.schema.json'), 'utf8');
      assert.equal(committed, ruleJsonSchemaText());
      assert.deepEqual(JSON.parse(committed), ruleJsonSchema());
    });

    it('is draft-07, describes every property and closes every object', () => {
      const schema = ruleJsonSchema();
      assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
      const missing: string[] = [];
      const walk = (node: unknown, at: string): void => {
        if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
        if (typeof node !== 'object' || node === null) return;
        const s = node as JsonSchema;
        // if/then parts restate properties declared elsewhere; they describe nothing new.
        if (/\/(if|then)$/.test(at)) return;
        for (const key of ['properties', 'patternProperties'] as const) {
          const props = s[key];
          if (typeof props !== 'object' || props === null || Array.isArray(props)) continue;
          if (key === 'properties' && s.type === 'object' && s.additionalProperties !== false) missing.push(`${at}: additionalProperties`);
          for (const [name, sub] of Object.entries(props as JsonSchema)) {
            if (sub !== false && typeof (sub as JsonSchema).description !== 'string') missing.push(`${at}/${key}/${name}`);
          }
        }
        for (const [k, v] of Object.entries(s)) walk(v, `${at}/${k}`);
      };
      walk(schema, '#');
      assert.deepEqual(missing, []);
    });

    it('is named by every seed rule, so editors check them', () => {
      for (const file of Object.keys(SEEDS)) {
        const text = readFileSync(join(RULES_DIR, `${file}.yaml`), 'utf8');
        assert.match(text, /^# yaml-language-server: \$schema=\.\/rule\.schema\.json\n/);
      }
    });
  });

  describe('formatProblems', () => {
    it('prints file:line:column: message, sorted', () => {
      const problems: RuleProblem[] = [
        { file: 'rules/b.yaml', line: 2, column: 1, message: 'second' },
        { file: 'rules/a.yaml', line: 9, column: 3, message: 'first' },
      ];
      assert.equal(formatProblems(problems), 'rules/a.yaml:9:3: first\nrules/b.yaml:2:1: second');
      assert.equal(formatProblems([]), '');
    });
  });
});
