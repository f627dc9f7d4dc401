import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnswerChartCardData, AnswerListCardData, ErrorCardData, NotUnderstoodCardData } from '../../src/cards/card-data';
import { AdaptiveCardJson, CARD_NAMES, CardDataOf, CardName, CardRenderError, CardRenderer } from '../../src/cards/render-card';
import { projectPath } from '../../src/paths';

/*
 * The adaptivecards SDK is untyped here: only its UMD bundle loads in Node (its ES-module build
 * fails with ERR_MODULE_NOT_FOUND), so these are the few members the test uses.
 */
interface AcEvent {
  phase: number;
  event: number;
  message: string;
}
interface AcSerializationContext {
  eventCount: number;
  getEventAt(index: number): AcEvent;
}
interface AcCard {
  parse(json: unknown, context: AcSerializationContext): void;
  validateProperties(): { validationEvents: { event: number; message: string }[] };
}
interface AcModule {
  AdaptiveCard: new () => AcCard;
  SerializationContext: new () => AcSerializationContext;
  ValidationEvent: Record<string, number>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC = require('adaptivecards/dist/adaptivecards.js') as AcModule;

const CARDS_DIR = projectPath('cards');
const SAMPLE = /^([a-z0-9-]+)(?:\.([a-z0-9-]+))?\.sample\.json$/;
const TEMPLATE = /^([a-z0-9-]+)\.json$/;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
}

function sample<K extends CardName>(name: K, variant?: string): CardDataOf<K> {
  return readJson(join(CARDS_DIR, `${name}${variant ? `.${variant}` : ''}.sample.json`)) as unknown as CardDataOf<K>;
}

/** Every object in a JSON tree, depth first. */
function objects(value: unknown, out: JsonObject[] = []): JsonObject[] {
  if (Array.isArray(value)) for (const item of value) objects(item, out);
  else if (value !== null && typeof value === 'object') {
    out.push(value as JsonObject);
    for (const item of Object.values(value)) objects(item, out);
  }
  return out;
}

function ofType(card: unknown, type: string): JsonObject[] {
  return objects(card).filter((o) => o.type === type);
}

function textRuns(card: unknown): string[] {
  return ofType(card, 'TextRun').map((o) => String(o.text));
}

/** Parses a card with the adaptivecards SDK and returns every parse and validation message. */
function sdkEvents(card: AdaptiveCardJson): { unknownElementTypes: string[]; problems: string[] } {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const unknownElementTypes: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) {
    const { event, message } = context.getEventAt(i);
    const unknown = /^Unknown element type "([^"]+)"/.exec(message);
    if (event === AC.ValidationEvent.UnknownElementType && unknown) unknownElementTypes.push(unknown[1]!);
    else problems.push(message);
  }
  for (const { message } of parsed.validateProperties().validationEvents) problems.push(message);
  return { unknownElementTypes, problems };
}

describe('card templates (cards/)', () => {
  const files = readdirSync(CARDS_DIR).sort();
  const templates = files.filter((f) => TEMPLATE.test(f) && !SAMPLE.test(f)).map((f) => TEMPLATE.exec(f)![1]!);
  const samples = files.filter((f) => SAMPLE.test(f));
  const renderer = new CardRenderer(CARDS_DIR);

  it('has exactly the registered templates, each with a sample, and no stray files', () => {
    assert.deepEqual([...templates].sort(), [...CARD_NAMES].sort(), 'templates in cards/ vs CARD_NAMES in src/cards/render-card.ts');
    for (const name of templates) assert.ok(files.includes(`${name}.sample.json`), `cards/${name}.json has no cards/${name}.sample.json`);
    for (const file of samples) assert.ok(templates.includes(SAMPLE.exec(file)![1]!), `cards/${file} has no template`);
    const stray = files.filter((f) => !TEMPLATE.test(f) && !SAMPLE.test(f));
    assert.deepEqual(stray, [], 'files in cards/ that are neither a template nor a sample');
  });

  it('loads and parses every registered template at once', () => {
    new CardRenderer(CARDS_DIR).loadAll();
  });

  for (const file of samples) {
    const name = SAMPLE.exec(file)![1] as CardName;
    const variant = SAMPLE.exec(file)![2];

    it(`renders ${file} into a complete, valid version 1.5 card`, () => {
      const card = renderer.render(name, sample(name, variant));
      assert.ok(!JSON.stringify(card).includes('${'), 'an unresolved binding is left');
      assert.equal(card.type, 'AdaptiveCard');
      assert.equal(card.version, '1.5');
      assert.equal(card.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
      assert.ok(Array.isArray(card.body) && card.body.length > 0, 'the card has a body');

      const { unknownElementTypes, problems } = sdkEvents(card);
      assert.deepEqual(problems, [], 'the adaptivecards SDK reports problems');
      // The SDK does not know Teams' chart elements; anything else it does not know is a mistake.
      for (const type of unknownElementTypes) assert.match(type, /^Chart\./, `unknown element type ${type}`);
      for (const chart of objects(card).filter((o) => typeof o.type === 'string' && o.type.startsWith('Chart.'))) {
        assert.equal((chart.fallback as JsonObject | undefined)?.type, 'TextBlock', `${String(chart.type)} needs a TextBlock fallback for clients without charts`);
      }
    });
  }

  it('shows data text only in TextRuns, never as Markdown (TextBlock, FactSet) ', () => {
    // Teams reads TextBlock text and facts as Markdown: a log message with [text](url) would become
    // a link. TextRun text is shown as written. Action titles and data are not Markdown.
    for (const name of templates) {
      const template = readJson(join(CARDS_DIR, `${name}.json`));
      for (const o of objects(template)) {
        if (o.type === 'TextBlock') assert.ok(!String(o.text).includes('${'), `${name}.json: data bound into a TextBlock: ${String(o.text)}`);
        if (o.type === 'FactSet') assert.fail(`${name}.json: FactSet facts are Markdown; use a Table of TextRuns`);
      }
    }
  });
});

describe('CardRenderer', () => {
  const renderer = new CardRenderer();

  it('keeps data text literally: ${…}, {{…}}, masked secrets, $ and private-use characters', () => {
    const message = 'token ${x} and {{x}} and ${ and $ and password=•••••• and \uE000d \uE000e $$';
    const data: AnswerListCardData = {
      ...sample('answer-list'),
      interpretation: 'errors with "${x}"',
      rows: [{ time: 'Fri 12 Jun 12:57:15', level: 'error', levelColor: 'attention', user: '${user}', message, source: 'APP01/api/2020-06-12.log:866' }],
      notes: ['{{DATE(2020-06-12T10:57:15Z, SHORT)}}'],
      more: { verb: 'answer.more', question: 'show ${x} {{x}}', offset: 10, now: '2020-06-12T16:30:00.000+02:00', timeZone: 'Europe/Berlin' },
    };
    const card = renderer.render('answer-list', data);
    const runs = textRuns(card);
    assert.ok(runs.includes(message), `message not kept literally in ${JSON.stringify(runs)}`);
    assert.ok(runs.includes('${user}'));
    assert.ok(runs.includes('Understood: errors with "${x}"'));
    assert.ok(runs.includes('Note: {{DATE(2020-06-12T10:57:15Z, SHORT)}}'));
    const [action] = ofType(card, 'Action.Execute');
    assert.deepEqual(action?.data, data.more);
    assert.equal(action?.verb, 'answer.more');
  });

  it('fails loudly on data missing a field the template binds', () => {
    assert.throws(() => renderer.render('error', {} as ErrorCardData), (err: unknown) => err instanceof CardRenderError && /unresolved/.test(err.message) && err.message.includes('${correlationId}'));
    const data = sample('answer-list');
    const rows = data.rows.map(({ message: _m, ...rest }) => rest) as unknown as AnswerListCardData['rows'];
    assert.throws(() => renderer.render('answer-list', { ...data, rows }), /unresolved.*\$\{message\}/);
  });

  it('refuses null and non-JSON data instead of rendering gaps', () => {
    assert.throws(() => renderer.render('error', { correlationId: null } as unknown as ErrorCardData), /\$root\.correlationId is null/);
    assert.throws(() => renderer.render('error', { correlationId: new Date() } as unknown as ErrorCardData), /not JSON/);
    const count = sample('answer-count');
    assert.throws(() => renderer.render('answer-count', { ...count, total: Number.NaN }), /finite/);
  });

  it('returns a new card that shares nothing with the data and leaves the data alone', () => {
    const data = sample('answer-list', 'more');
    const before = JSON.stringify(data);
    const card = renderer.render('answer-list', data);
    const [action] = ofType(card, 'Action.Execute');
    assert.notEqual(action?.data, data.more);
    (action!.data as JsonObject).offset = 999;
    assert.equal(JSON.stringify(data), before);
    assert.equal(JSON.stringify(renderer.render('answer-list', data)), JSON.stringify(renderer.render('answer-list', JSON.parse(before) as AnswerListCardData)));
  });

  it('answer-list: one row per event, level in its colour, "Show more" only when there is more', () => {
    const withMore = renderer.render('answer-list', sample('answer-list', 'more'));
    const rows = ofType(withMore, 'TableRow');
    assert.equal(rows.length, 1 + sample('answer-list', 'more').rows.length);
    assert.ok(ofType(withMore, 'TextRun').some((r) => r.text === 'error' && r.color === 'attention'));
    assert.equal(ofType(withMore, 'Action.Execute').length, 1);

    const two = renderer.render('answer-list', sample('answer-list'));
    assert.equal(ofType(two, 'Action.Execute').length, 0);
    assert.ok(textRuns(two).includes('APP01/api/2020-06-12.log:866'));
    assert.ok(!textRuns(two).some((t) => t.startsWith('Note:')), 'no notes, no note line');

    const none = renderer.render('answer-list', { ...sample('answer-list'), summary: '0 events', rows: [] });
    assert.equal(ofType(none, 'Table').length, 0, 'no table for no events');
  });

  it('answer-chart: exactly the chart element asked for, with the bars as data', () => {
    for (const [variant, type] of [[undefined, 'Chart.HorizontalBar'], ['histogram', 'Chart.VerticalBar']] as const) {
      const data = sample('answer-chart', variant);
      assert.equal(data.chart, type);
      const card = renderer.render('answer-chart', data);
      const charts = objects(card).filter((o) => String(o.type).startsWith('Chart.'));
      assert.deepEqual(charts.map((c) => c.type), [type]);
      assert.deepEqual(charts[0]!.data, data.bars);
      assert.ok(textRuns(card).includes(data.chartTitle), 'a visible title above the chart');
      assert.equal(ofType(card, 'TableRow').length, 1 + data.rows.length);
    }
    const swapped: AnswerChartCardData = { ...sample('answer-chart'), chart: 'Chart.VerticalBar', other: '' };
    const card = renderer.render('answer-chart', swapped);
    assert.deepEqual(objects(card).filter((o) => String(o.type).startsWith('Chart.')).map((c) => c.type), ['Chart.VerticalBar']);
    assert.ok(!textRuns(card).includes(''), 'an empty "other" line is left out');
  });

  it('not-understood: every example listed, an Ask button (verb ask) for the first three only', () => {
    const data: NotUnderstoodCardData = sample('not-understood');
    assert.ok(data.examples.length > 3);
    const card = renderer.render('not-understood', data);
    for (const example of data.examples) assert.ok(textRuns(card).includes(example));
    const asks = ofType(card, 'Action.Execute');
    assert.deepEqual(asks.map((a) => [a.verb, a.data]), data.examples.slice(0, 3).map((question) => ['ask', { question }]));
  });

  it('error: the apology and the correlation id, nothing else', () => {
    const card = renderer.render('error', { correlationId: 'abc-123' });
    assert.deepEqual(textRuns(card), ['abc-123']);
    assert.equal(ofType(card, 'TextBlock').length, 1);
  });

  it('notice: the container style comes from the data', () => {
    const card = renderer.render('notice', { title: 'Done', text: 'Subscribed.', style: 'good' });
    assert.equal(ofType(card, 'Container')[0]?.style, 'good');
  });

  it('reads each template once per renderer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cards-'));
    try {
      cpSync(CARDS_DIR, dir, { recursive: true });
      const cached = new CardRenderer(dir);
      const first = JSON.stringify(cached.render('error', { correlationId: 'x' }));
      writeFileSync(join(dir, 'error.json'), JSON.stringify({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'changed ${correlationId}' }] }] }));
      assert.equal(JSON.stringify(cached.render('error', { correlationId: 'x' })), first);
      assert.deepEqual(textRuns(new CardRenderer(dir).render('error', { correlationId: 'x' })), ['changed x']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails loudly on a missing or unparsable template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cards-'));
    try {
      assert.throws(() => new CardRenderer(dir).loadAll(), (err: unknown) => err instanceof CardRenderError && /cannot read/.test(err.message));
      writeFileSync(join(dir, 'error.json'), JSON.stringify({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'a ` backtick ${correlationId}' }] }));
      assert.throws(() => new CardRenderer(dir).render('error', { correlationId: 'x' }), /cannot parse/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wraps a card in the Bot Framework attachment shape', () => {
    const card = renderer.render('error', { correlationId: 'abc-123' });
    assert.deepEqual(renderer.attachment(card), { contentType: 'application/vnd.microsoft.card.adaptive', content: card });
  });
});
