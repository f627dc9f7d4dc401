import { KEYWORD_FIELDS, KeywordField, LOG_LEVELS, LogLevel, NUMERIC_FIELDS, NumericField } from '../logs/log-event';
import { KeyField, RuleTypeOptions, WORKAROUND_PLACEHOLDERS } from './rule';

/**
 * The rule file format (rules/*.yaml) as a JSON Schema, draft-07. It is the single description of
 * the format: the loader validates every file against it with Ajv (src/alerts/rule-loader.ts), and
 * it is exported as rules/rule.schema.json so an editor completes and checks rule files
 * (`# yaml-language-server: $schema=./rule.schema.json`). A test keeps that file equal to
 * `ruleJsonSchemaText()`.
 *
 * What a schema cannot say (a CIDR block that is not one, a phrase without words, placeholders,
 * key vs. recipients, duration bounds, unique ids across files) the loader checks afterwards.
 *
 * Field-level values use `if: {type: object} then: <condition> else: <shorthand>` rather than
 * `anyOf`: both read the same to an editor, but Ajv then reports only the errors of the form the
 * author actually wrote, which keeps the loader's messages precise.
 */

/** A JSON Schema node (plain JSON data). */
export type JsonSchema = { readonly [keyword: string]: JsonValue };
/** Any JSON value a schema node may hold. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonSchema;

/** How the YAML `where` form of a rule file is written, before it is compiled to LogQuery filters. */
export interface RuleFile {
  id: string;
  description: string;
  enabled?: boolean;
  type: RuleTypeOptions['name'];
  threshold?: number;
  window?: string;
  key?: KeyField;
  realert?: string;
  filter: { levels?: LogLevel[]; where?: WhereItem[] };
  recipients?: { affected?: boolean; supervisor?: boolean; channel?: boolean };
  card: {
    title: string;
    problem: string;
    workaround: string[];
    supervisorNote?: string;
    links?: { title: string; url: string }[];
  };
}

/** One `where` item: exactly one key, a field (with a value or a condition), `any` or `not`. */
export type WhereItem = { [field: string]: ScalarValue | Condition | WhereItem | WhereItem[] };
/** A value written alone: the shorthand for equals (for source.ip: the address or block). */
export type ScalarValue = string | number | boolean;
/** A condition object, `{ operator: value }` (`gte` with `lte`, `equals` with `ignoreCase`). */
export type Condition = { [operator in ConditionOperator]?: ScalarValue | ScalarValue[] };

/** Every operator a condition object may use; which ones a field takes: OPERATORS_BY_KIND. */
export const CONDITION_OPERATORS = [
  'equals', 'ignoreCase', 'in', 'not', 'gte', 'lte', 'cidr', 'phrase', 'startsWith', 'contains', 'pattern', 'missing',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** Fields a `where` item may name (besides `params.<name>`). */
export type WhereField = KeywordField | NumericField | 'source.ip' | 'message' | 'error.message' | 'error.stack_trace';

/**
 * What kind of value a field holds, which decides its shorthand and its conditions:
 * keyword (exact text), level, numeric, ip, param (a request parameter, text), message (words or
 * exact text), errorText (exact text only).
 */
export type FieldKind = 'keyword' | 'level' | 'numeric' | 'ip' | 'param' | 'message' | 'errorText';

/** The request-parameter field names `params.<name>` (the same rule as log-query.ts). */
export const PARAM_FIELD_PATTERN = '^params\\.[A-Za-z0-9_\\-$@][A-Za-z0-9_\\-$@.]{0,99}$';

/** Mirrors log-query.ts: longer values are refused there, so the schema refuses them first. */
const MAX_VALUE_LENGTH = 1024;
const MAX_VALUES = 1000;
/** The most `where` items at the top level; log-query.ts limits all conditions, nested ones too, to 64. */
export const MAX_WHERE_ITEMS = 64;

/** Operators each kind of field takes; `ignoreCase` and `lte` only ever go with `equals` / `gte`. */
export const OPERATORS_BY_KIND: Record<FieldKind, readonly ConditionOperator[]> = {
  keyword: ['equals', 'ignoreCase', 'in', 'not', 'startsWith', 'contains', 'pattern', 'missing'],
  level: ['equals', 'in', 'not'],
  numeric: ['equals', 'in', 'not', 'gte', 'lte', 'missing'],
  ip: ['cidr', 'in', 'not', 'missing'],
  param: ['equals', 'ignoreCase', 'in', 'not', 'missing'],
  message: ['phrase', 'startsWith', 'contains', 'pattern'],
  errorText: ['startsWith', 'contains', 'pattern'],
};

const KEYWORD_DOCS: Record<KeywordField, string> = {
  'log.level': 'Level of the event: trace, debug, info, warn, error or fatal (filter.levels is the usual way to say it).',
  'log.logger': 'The logger (class) that wrote the event, e.g. Contoso.Api.Controllers.DocumentsController.',
  'event.dataset': 'The kind of log the event came from: api or auth.',
  'host.name': 'The node that wrote the log, e.g. APP01.',
  'user.id': "The application's user id, e.g. 1087 (compared as text; 1087 and \"1087\" are the same).",
  'user.name': "The user's login name, e.g. y.larsen.",
  'http.request.method': 'HTTP method in upper case, e.g. PUT.',
  'http.request.id': 'The request id, e.g. 0HM0F6A2C14B:00000014.',
  'url.path': 'Request path without the query string, e.g. /api/documents/11213.',
  'http.route': 'The path with ids replaced by {id}: the endpoint, e.g. /api/entities/{id}.',
  'error.type': 'Exception type, e.g. System.FormatException.',
  'document.id': 'Id of the document the request was about, e.g. 11213.',
  'document.type': 'Type of that document, e.g. Service Hours Adjustment.',
  'entity.id': 'Id of the entity the request was about, e.g. 6523.',
  'log.file.path': 'The log file the event came from, relative to the ingested folder, e.g. APP01/api/2020-06-12.log.',
};

const NUMERIC_DOCS: Record<NumericField, string> = {
  'http.response.status_code': 'HTTP status of the response, e.g. 403.',
  'event.duration': 'Request duration in nanoseconds (1 ms = 1000000).',
  'log.file.line': 'Line number of the event in its log file.',
};

const OTHER_FIELD_DOCS: Record<Exclude<WhereField, KeywordField | NumericField>, string> = {
  'source.ip': 'Client IP address. The value alone is an address or a CIDR block, e.g. 198.51.100.0/24.',
  message: 'The log message. Not compared whole: use phrase (words in order), startsWith, contains or pattern.',
  'error.message': 'The exception message. Use startsWith, contains or pattern.',
  'error.stack_trace': 'The whole exception as logged: type, message and stack frames. Use startsWith, contains or pattern.',
};

/** The kind of a field a `where` item names, or undefined when it is not one. */
export function fieldKind(field: string): FieldKind | undefined {
  if (field === 'log.level') return 'level';
  if ((KEYWORD_FIELDS as readonly string[]).includes(field)) return 'keyword';
  if ((NUMERIC_FIELDS as readonly string[]).includes(field)) return 'numeric';
  if (field === 'source.ip') return 'ip';
  if (field === 'message') return 'message';
  if (field === 'error.message' || field === 'error.stack_trace') return 'errorText';
  if (new RegExp(PARAM_FIELD_PATTERN).test(field)) return 'param';
  return undefined;
}

/** Every field name a `where` item may use, in the order rules/README.md lists them. */
export const WHERE_FIELDS: readonly WhereField[] = [
  ...KEYWORD_FIELDS, ...NUMERIC_FIELDS, 'source.ip', 'message', 'error.message', 'error.stack_trace',
];

const KEY_FIELD_DOCS: Record<KeyField, string> = {
  'user.id': 'the user (needed to tell the affected user or their supervisor)',
  'user.name': 'the login name',
  'host.name': 'the node',
  'source.ip': 'the client IP address',
  'document.id': 'the document',
  'entity.id': 'the entity',
};

/** The fields a rule's `key` may name (every KeyField of rule.ts, checked by the Record above). */
export const KEY_FIELDS: readonly KeyField[] = Object.freeze(Object.keys(KEY_FIELD_DOCS) as KeyField[]);

const TYPE_DOCS: Record<RuleTypeOptions['name'], string> = {
  any: 'every matching event (per key at most once per realert)',
  frequency: 'at least `threshold` matching events for the same key within `window`',
};

/** A duration: a whole number and a unit, s m h d (`90s`, `60m`, `1h`, `7d`). */
export const DURATION_PATTERN = '^[1-9][0-9]{0,5}[smhd]$';
/** The same, zero allowed (`realert: 0m` tells about every match). */
export const DURATION_OR_ZERO_PATTERN = '^(0|[1-9][0-9]{0,5})[smhd]$';
const DURATION_MESSAGE = 'is not a duration; write a whole number and a unit (s, m, h or d): 90s, 60m, 1h, 7d';

function text(description: string, maxLength = MAX_VALUE_LENGTH): JsonSchema {
  return { type: 'string', minLength: 1, maxLength, description };
}

function valueSchema(kind: FieldKind): JsonSchema {
  switch (kind) {
    case 'keyword':
      return { type: ['string', 'integer'], minLength: 1, maxLength: MAX_VALUE_LENGTH };
    case 'level':
      return { type: 'string', enum: [...LOG_LEVELS] };
    case 'numeric':
      return { type: 'integer' };
    case 'ip':
      return { type: 'string', minLength: 1, maxLength: 64 };
    case 'param':
      return { type: ['string', 'integer', 'boolean'], minLength: 1, maxLength: MAX_VALUE_LENGTH };
    case 'message':
    case 'errorText':
      return { type: 'string', minLength: 1, maxLength: MAX_VALUE_LENGTH };
  }
}

function operatorSchema(op: ConditionOperator, kind: FieldKind): JsonSchema {
  const value = valueSchema(kind);
  const list = (description: string): JsonSchema => ({
    type: 'array', minItems: 1, maxItems: MAX_VALUES, items: kind === 'ip' ? valueSchema('ip') : value, description,
  });
  switch (op) {
    case 'equals':
      return { ...value, description: 'Exactly this value (the same as writing the value alone).' };
    case 'ignoreCase':
      return { type: 'boolean', description: 'With equals: compare without regard to case (ASCII letters only).' };
    case 'in':
      return list(kind === 'ip' ? 'Any of these addresses or CIDR blocks.' : 'Any of these values.');
    case 'not':
      return {
        description: 'None of these: one value, or a list of values.',
        if: { type: 'array' },
        then: list('None of these values.'),
        else: kind === 'ip' ? valueSchema('ip') : value,
      };
    case 'gte':
      return { type: 'integer', description: 'At least this number.' };
    case 'lte':
      return { type: 'integer', description: 'At most this number.' };
    case 'cidr':
      return { type: 'string', minLength: 1, maxLength: 64, description: 'An IP address or a CIDR block, e.g. 198.51.100.0/24.' };
    case 'phrase':
      return text('These words in this order anywhere in the message; case and punctuation do not matter (like a quoted phrase in the chat).');
    case 'startsWith':
      return text('The text starts with exactly this (case-sensitive).');
    case 'contains':
      return text('The text contains exactly this (case-sensitive).');
    case 'pattern':
      return text('The whole text matches this pattern: * any run of characters, ? one character (case-sensitive).');
    case 'missing':
      return { type: 'boolean', description: 'true: the event has no value for the field (for params.<name>: the request had no such parameter); false: it has one.' };
  }
}

const KIND_WORDS: Record<FieldKind, string> = {
  keyword: 'a text field',
  level: 'the level',
  numeric: 'a numeric field',
  ip: 'the client IP address',
  param: 'a request parameter',
  message: 'the message',
  errorText: 'an exception text',
};

/** The condition object `{ operator: value }` of one kind of field: exactly one operator. */
function conditionSchema(kind: FieldKind): JsonSchema {
  const ops = OPERATORS_BY_KIND[kind];
  const primary = ops.filter((op) => op !== 'ignoreCase' && op !== 'lte');
  return {
    type: 'object',
    description: `A condition on ${KIND_WORDS[kind]}: one of ${primary.join(', ')}.`,
    properties: Object.fromEntries(ops.map((op) => [op, operatorSchema(op, kind)])),
    additionalProperties: false,
    minProperties: 1,
    oneOf: primary.map((op): JsonSchema => (op === 'gte' ? { anyOf: [{ required: ['gte'] }, { required: ['lte'] }] } : { required: [op] })),
    ...(ops.includes('ignoreCase') ? { dependencies: { ignoreCase: ['equals'] } } : {}),
  };
}

/** A field's value in a `where` item: a condition object, or the value alone where the kind has a shorthand. */
function fieldSchema(kind: FieldKind, description: string): JsonSchema {
  const condition = { $ref: `#/definitions/${kind}Condition` };
  if (kind === 'message' || kind === 'errorText') return { description, allOf: [condition] };
  const shorthand = kind === 'ip' ? 'the address or block alone' : 'the value alone means equals';
  return { description: `${description.replace(/\.$/, '')} (${shorthand}).`, if: { type: 'object' }, then: condition, else: valueSchema(kind) };
}

function whereItemSchema(): JsonSchema {
  const fields: Record<string, JsonSchema> = {};
  for (const f of KEYWORD_FIELDS) fields[f] = fieldSchema(fieldKind(f)!, KEYWORD_DOCS[f]);
  for (const f of NUMERIC_FIELDS) fields[f] = fieldSchema('numeric', NUMERIC_DOCS[f]);
  for (const [f, doc] of Object.entries(OTHER_FIELD_DOCS)) fields[f] = fieldSchema(fieldKind(f)!, doc);
  return {
    type: 'object',
    description: 'One condition: a field and its value or condition (`- http.response.status_code: 403`), or any / not.',
    properties: {
      ...fields,
      any: {
        type: 'array', minItems: 1, maxItems: MAX_WHERE_ITEMS, items: { $ref: '#/definitions/whereItem' },
        description: 'At least one of these items holds.',
      },
      not: { description: 'This item does not hold.', allOf: [{ $ref: '#/definitions/whereItem' }] },
    },
    patternProperties: {
      [PARAM_FIELD_PATTERN]: fieldSchema('param', 'A request parameter by name, e.g. params.isAcknowledged; values are compared as text.'),
    },
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
  };
}

const placeholders = WORKAROUND_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');

function buildRuleSchema(): JsonSchema {
  const kinds = Object.keys(OPERATORS_BY_KIND) as FieldKind[];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: 'Generated from src/alerts/rule-schema.ts (supportbot rules schema); do not edit by hand.',
    title: 'Support bot alert rule',
    description: 'One alert rule: which events signal a known problem, whom to tell, and the workaround card. See rules/README.md.',
    type: 'object',
    additionalProperties: false,
    required: ['id', 'description', 'type', 'filter', 'card'],
    properties: {
      id: {
        type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 64, examples: ['forbidden-edit'],
        patternErrorMessage: 'is not a rule id; use lower-case letters, digits and single dashes, e.g. forbidden-edit',
        description: 'Unique name of the rule across all rule files: lower-case letters, digits and dashes. Chat commands (subscribe <id>) use it.',
      },
      description: text('What the rule is about, for support staff (one or two sentences).', 2000),
      enabled: { type: 'boolean', default: true, description: 'false keeps the rule loaded and checked but never alerts. Default true.' },
      type: {
        type: 'string', enum: Object.keys(TYPE_DOCS),
        description: `When to tell: ${Object.entries(TYPE_DOCS).map(([k, v]) => `${k}: ${v}`).join('; ')}.`,
      },
      threshold: {
        type: 'integer', minimum: 2, maximum: 10000,
        description: 'frequency only: how many matching events for the same key (at least 2) ...',
      },
      window: {
        type: 'string', pattern: DURATION_PATTERN, examples: ['60m'], patternErrorMessage: DURATION_MESSAGE,
        description: 'frequency only: ... within this sliding window: a whole number and s, m, h or d (at most 30d).',
      },
      key: {
        type: 'string', enum: Object.keys(KEY_FIELD_DOCS), default: 'user.id',
        description: `Whose problem an event is: ${Object.entries(KEY_FIELD_DOCS).map(([k, v]) => `${k} (${v})`).join(', ')}. Default user.id.`,
      },
      realert: {
        type: 'string', pattern: DURATION_OR_ZERO_PATTERN, default: '1h', examples: ['1h', '1d', '7d'], patternErrorMessage: DURATION_MESSAGE,
        description: 'After telling about a key, stay quiet about that key for this long (at most 365d; 0m tells every time). Default 1h.',
      },
      filter: {
        type: 'object',
        description: 'Which events count: all of levels and where must hold.',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          levels: {
            type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...LOG_LEVELS] },
            description: 'The event has one of these levels. Only what is listed: error does not include fatal.',
          },
          where: {
            type: 'array', minItems: 1, maxItems: MAX_WHERE_ITEMS, items: { $ref: '#/definitions/whereItem' },
            description: 'Conditions that must all hold; each item is one field and its condition, or any / not.',
          },
        },
      },
      recipients: {
        type: 'object',
        description: 'Whom to tell. Defaults: affected true, supervisor false, channel true.',
        additionalProperties: false,
        properties: {
          affected: { type: 'boolean', default: true, description: 'The user the key names gets the workaround card (needs key: user.id). Default true.' },
          supervisor: { type: 'boolean', default: false, description: "That user's supervisor gets a notice (needs key: user.id and card.supervisorNote). Default false." },
          channel: { type: 'boolean', default: true, description: 'Channels and group chats subscribed to the rule get a notice. Default true.' },
        },
      },
      card: {
        type: 'object',
        description: `The workaround card. Texts may use placeholders for the event's specifics: ${placeholders}.`,
        additionalProperties: false,
        required: ['title', 'problem', 'workaround'],
        properties: {
          title: text('Headline of the card, e.g. Editing Service Hours Adjustments.', 200),
          problem: text('What happened, in plain words, e.g. "You tried to edit document {document.id} at {time} and it was refused."', 2000),
          workaround: {
            type: 'array', minItems: 1, maxItems: 20, items: text('One step.', 1000),
            description: 'What to do about it, as short steps the user can follow.',
          },
          supervisorNote: text("The supervisor's notice: what happened to whom and what the supervisor can do. Required when recipients.supervisor is true.", 2000),
          links: {
            type: 'array', maxItems: 10, description: 'Further reading, shown as buttons.',
            items: {
              type: 'object', additionalProperties: false, required: ['title', 'url'],
              description: 'A link: title and url.',
              properties: {
                title: text('Button text.', 100),
                url: {
                  type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2000, description: 'An http or https address.',
                  patternErrorMessage: 'is not a web address; write one that starts with https://',
                },
              },
            },
          },
        },
      },
    },
    allOf: [
      {
        if: { properties: { type: { const: 'frequency' } }, required: ['type'] },
        then: { required: ['threshold', 'window'] },
      },
      {
        if: { properties: { type: { const: 'any' } }, required: ['type'] },
        then: { properties: { threshold: false, window: false } },
      },
      {
        if: { properties: { recipients: { type: 'object', properties: { supervisor: { const: true } }, required: ['supervisor'] } }, required: ['recipients'] },
        then: { properties: { card: { type: 'object', required: ['supervisorNote'] } } },
      },
    ],
    definitions: {
      whereItem: whereItemSchema(),
      ...Object.fromEntries(kinds.map((kind) => [`${kind}Condition`, conditionSchema(kind)])),
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The schema, built once and frozen: a constant, not state. */
const RULE_SCHEMA: JsonSchema = deepFreeze(buildRuleSchema());

/** The rule file schema (draft-07), a fresh copy the caller may change. */
export function ruleJsonSchema(): JsonSchema {
  return structuredClone(RULE_SCHEMA) as JsonSchema;
}

/** The schema as rules/rule.schema.json holds it: two-space JSON and a final newline. */
export function ruleJsonSchemaText(): string {
  return `${JSON.stringify(RULE_SCHEMA, null, 2)}\n`;
}

/** Ajv keywords that are annotations for editors only (yaml-language-server shows `patternErrorMessage`). */
export const EDITOR_KEYWORDS = ['patternErrorMessage'] as const;
