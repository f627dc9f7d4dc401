import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { projectPath } from '../paths';
import {
  AnswerChartCardData,
  AnswerCountCardData,
  AnswerListCardData,
  ErrorCardData,
  FixedCardData,
  HelpCardData,
  IncidentCardData,
  IncidentListCardData,
  RuleDraftCardData,
  NoticeCardData,
  NotUnderstoodCardData,
  WelcomeCardData,
  WorkaroundCardData,
} from './card-data';

/**
 * The card registry: each template in cards/ (`cards/<name>.json`) and the data interface it is
 * rendered with. A template without an entry here cannot be rendered, and the cards test fails
 * on a template file that has no entry or no sample.
 */
export interface CardDataByName {
  'answer-list': AnswerListCardData;
  'answer-chart': AnswerChartCardData;
  'answer-count': AnswerCountCardData;
  'not-understood': NotUnderstoodCardData;
  help: HelpCardData;
  error: ErrorCardData;
  notice: NoticeCardData;
  welcome: WelcomeCardData;
  workaround: WorkaroundCardData;
  incident: IncidentCardData;
  fixed: FixedCardData;
  'incident-list': IncidentListCardData;
  'rule-draft': RuleDraftCardData;
}

/** The name of a card template: its file name in cards/ without `.json`. */
export type CardName = keyof CardDataByName;

/** The data interface a card template is rendered with. */
export type CardDataOf<K extends CardName> = CardDataByName[K];

// A Record (not an array) so that the compiler rejects a registry entry missing here.
const CARD_NAME_SET: Record<CardName, true> = {
  'answer-list': true,
  'answer-chart': true,
  'answer-count': true,
  'not-understood': true,
  help: true,
  error: true,
  notice: true,
  welcome: true,
  workaround: true,
  incident: true,
  fixed: true,
  'incident-list': true,
  'rule-draft': true,
};

/** Every card name in the registry, for start-up checks and tests. */
export const CARD_NAMES: readonly CardName[] = Object.freeze(Object.keys(CARD_NAME_SET) as CardName[]);

/** A JSON value as it appears in a card. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An expanded Adaptive Card, ready to send. */
export interface AdaptiveCardJson {
  type: 'AdaptiveCard';
  version: string;
  [property: string]: JsonValue;
}

/** The Bot Framework attachment that carries an Adaptive Card (the shape botbuilder's `CardFactory.adaptiveCard` makes). */
export interface CardAttachment {
  contentType: 'application/vnd.microsoft.card.adaptive';
  content: AdaptiveCardJson;
}

/** A template or its data cannot be turned into a complete card: a programming error, not a user's. */
export class CardRenderError extends Error {
  override readonly name = 'CardRenderError';
  constructor(
    readonly card: string,
    message: string,
  ) {
    super(`card '${card}': ${message}`);
  }
}

/*
 * Why data strings are encoded before expansion and decoded after it.
 *
 * adaptivecards-templating evaluates each binding once and does not re-expand the values it
 * inserts (measured with 2.3.1: a message `token ${abc}` comes out as `token ${abc}`). But it leaves
 * a binding to a missing field in the output as the literal text `${field}`, and the only way to
 * catch that is to look for `${` in the result, which would also flag a log message that really
 * contains `${`. So every `$` in a data string (and our escape character itself) is replaced by an
 * escape sequence in a private-use character before expansion; any `${` left in the result then
 * comes from the template, and decoding restores the data text exactly. Templates must therefore not
 * compare data strings that contain `$` (none do: they compare `chart` and test emptiness).
 *
 * The library's other way to spot missing fields, `GlobalSettings.getUndefinedFieldValueSubstitutionString`,
 * is a process-wide static: setting it would be module-level mutable state shared with any other
 * user of the library, so it is left alone.
 */
const ESCAPE = '\uE000';
const ENCODED_DOLLAR = `${ESCAPE}d`;
const ENCODED_ESCAPE = `${ESCAPE}e`;

function encodeText(text: string): string {
  return text.replaceAll(ESCAPE, ENCODED_ESCAPE).replaceAll('$', ENCODED_DOLLAR);
}

function decodeText(text: string): string {
  return text.replace(/\uE000([de])/g, (_m, c: string) => (c === 'd' ? '$' : ESCAPE));
}

function encodeData(value: unknown, path: string, card: string): JsonValue {
  if (typeof value === 'string') return encodeText(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CardRenderError(card, `data ${path} is ${value}, not a finite number`);
    return value;
  }
  // The templating library turns a null field into null silently (no `${` left to catch), and the
  // card interfaces have no nullable fields: refuse it here instead of sending a card with gaps.
  if (value === null) throw new CardRenderError(card, `data ${path} is null`);
  if (Array.isArray(value)) return value.map((item, i) => encodeData(item, `${path}[${i}]`, card));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      // An optional field given as undefined is the same as an absent one.
      if (item !== undefined) out[key] = encodeData(item, `${path}.${key}`, card);
    }
    return out;
  }
  throw new CardRenderError(card, `data ${path} is a ${typeof value === 'object' ? 'non-plain object' : typeof value}, not JSON`);
}

/** Finds leftovers of the template (`${` of a missing field, nulls) in expanded, still-encoded output. */
function findUnresolved(value: unknown, path: string, found: string[]): void {
  if (typeof value === 'string') {
    if (value.includes('${')) found.push(`${path} = ${JSON.stringify(decodeText(value))}`);
  } else if (value === null || value === undefined) {
    found.push(`${path} is ${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => findUnresolved(item, `${path}[${i}]`, found));
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) findUnresolved(item, `${path}.${key}`, found);
  }
}

/** Decodes data text and copies the card, so it shares no objects with the caller's data. */
function decodeCard(value: JsonValue): JsonValue {
  if (typeof value === 'string') return decodeText(value);
  if (Array.isArray(value)) return value.map(decodeCard);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = decodeCard(item);
    return out;
  }
  return value;
}

/**
 * Renders the card templates in cards/ with their typed data (adaptivecards-templating), so the
 * bot never builds card JSON by hand. Templates are read and parsed once per renderer and kept;
 * make one renderer in the composition root and share it.
 *
 * Values go into cards as data and are never escaped or interpreted here. Templates show data text
 * only in `TextRun`s (never in a `TextBlock`, whose text Teams reads as Markdown), so a log message
 * like `[reset your password](https://…)` is shown as written, not as a link.
 */
export class CardRenderer {
  // A Template keeps its parsed expressions and can be expanded again and again; expand() is
  // synchronous, so sharing one between concurrent turns is safe.
  private readonly templates = new Map<CardName, ACData.Template>();

  /** @param cardsDir Directory of the `<name>.json` templates; default the project's cards/. */
  constructor(private readonly cardsDir: string = projectPath('cards')) {}

  /**
   * Reads and parses every registered template now, so a broken or missing template stops start-up
   * instead of the first answer that needs it.
   */
  loadAll(): void {
    for (const name of CARD_NAMES) this.template(name);
  }

  /**
   * Expands the named template with its data.
   *
   * @throws CardRenderError when the template cannot be read or parsed, the data is not plain JSON
   *   or holds null, or the expanded card still contains a binding (`${`) or null, which is what a
   *   field missing from the data leaves behind.
   */
  render<K extends CardName>(name: K, data: CardDataOf<K>): AdaptiveCardJson {
    const template = this.template(name);
    const encoded = encodeData(data, '$root', name);
    let expanded: unknown;
    try {
      expanded = template.expand({ $root: encoded });
    } catch (err) {
      throw new CardRenderError(name, `expansion failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const unresolved: string[] = [];
    findUnresolved(expanded, '$', unresolved);
    if (unresolved.length) throw new CardRenderError(name, `unresolved bindings (missing data?): ${unresolved.join('; ')}`);
    const card = decodeCard(expanded as JsonValue);
    if (!isAdaptiveCard(card)) throw new CardRenderError(name, 'the template does not expand to an AdaptiveCard with a version');
    return card;
  }

  /** Same as {@link CardRenderer.render}. */
  renderCard<K extends CardName>(name: K, data: CardDataOf<K>): AdaptiveCardJson {
    return this.render(name, data);
  }

  /** Wraps a card in the Bot Framework attachment shape (a plain object: src/ does not import botbuilder). */
  attachment(card: AdaptiveCardJson): CardAttachment {
    return { contentType: 'application/vnd.microsoft.card.adaptive', content: card };
  }

  private template(name: CardName): ACData.Template {
    const cached = this.templates.get(name);
    if (cached) return cached;
    const file = join(this.cardsDir, `${name}.json`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CardRenderError(name, `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    let template: ACData.Template;
    try {
      // Parsing happens here: a bad expression (or a backtick, which the expression parser uses as
      // its string delimiter) fails now, not at the first render.
      template = new ACData.Template(json);
    } catch (err) {
      throw new CardRenderError(name, `cannot parse ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.templates.set(name, template);
    return template;
  }
}

function isAdaptiveCard(value: JsonValue): value is AdaptiveCardJson {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.type === 'AdaptiveCard' && typeof value.version === 'string';
}
