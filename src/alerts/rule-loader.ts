import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { tokenize } from '../logs/analysis';
import { parseCidr } from '../logs/ip';
import { KeywordField, LOG_LEVELS, LogLevel, NumericField } from '../logs/log-event';
import { EqField, Filter, InvalidQueryError, validateLogQuery } from '../query/log-query';
import { KeyField, Recipients, Rule, RuleTypeOptions, WORKAROUND_PLACEHOLDERS, WorkaroundCard } from './rule';
import {
  ConditionOperator, EDITOR_KEYWORDS, FieldKind, fieldKind, KEY_FIELDS, OPERATORS_BY_KIND, ruleJsonSchema, RuleFile, WHERE_FIELDS,
} from './rule-schema';

/**
 * Alert rules from YAML files (rules/*.yaml): read, validated and compiled into `Rule`s, the way
 * ElastAlert 2's loaders.py does it: YAML, then the schema, then the checks a schema cannot make.
 * Every problem names the file, the line and column of the offending node, what is wrong and what
 * would be right. A rule with any problem is left out; the others load.
 */

/** A problem with a rule file; `line` and `column` are 1-based. */
export interface RuleProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** The rules of a folder that loaded, and the problems of those that did not. */
export interface LoadedRules {
  rules: Rule[];
  problems: RuleProblem[];
}

/** Checks a parsed rule file against the schema; make one with createRuleValidator and reuse it. */
export interface RuleValidator {
  validate: ValidateFunction;
  /** Schema definition objects by name: errors inside a recursive `$ref` carry a schemaPath relative to it, so they are told apart by identity. */
  definitions: ReadonlyMap<unknown, string>;
}

/** Rule files larger than this are refused unread: a rule is a page of YAML, not megabytes. */
export const MAX_RULE_FILE_BYTES = 256 * 1024;
/** Longest sliding window a frequency rule may have. */
export const MAX_WINDOW_MS = 30 * 86_400_000;
/** Longest quiet period after telling about a key. */
export const MAX_REALERT_MS = 365 * 86_400_000;
const DEFAULT_REALERT_MS = 3_600_000;
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Compiles the rule schema with Ajv (a few milliseconds; loadRules does it once per directory). */
export function createRuleValidator(): RuleValidator {
  // strictRequired is off because if/then branches name properties declared at the top level.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  for (const keyword of EDITOR_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  const schema = ruleJsonSchema();
  const definitions = new Map<unknown, string>(isObject(schema.definitions) ? Object.entries(schema.definitions).map(([name, d]) => [d, name]) : []);
  return { validate: ajv.compile(schema), definitions };
}

/**
 * Reads every `*.yaml` / `*.yml` file directly in `dir` (sorted by name, not recursive; names
 * starting with a dot are editor files and skipped). Rules with problems, and both rules of an id
 * used twice, are left out of `rules`.
 */
export function loadRules(dir: string): LoadedRules {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    return { rules: [], problems: [{ file: dir, line: 1, column: 1, message: `cannot read the rules directory (${errorCode(err)})` }] };
  }
  const validator = createRuleValidator();
  const parsed: ParsedFile[] = [];
  const problems: RuleProblem[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = readRuleFile(file);
    if (typeof text !== 'string') {
      if (text) problems.push(text);
      continue;
    }
    const result = parseWithPositions(text, file, validator);
    parsed.push(result);
    problems.push(...result.problems);
  }
  const byId = new Map<string, ParsedFile[]>();
  for (const p of parsed) if (p.id) byId.set(p.id.value, [...(byId.get(p.id.value) ?? []), p]);
  const duplicated = new Set<ParsedFile>();
  for (const [id, files] of byId) {
    if (files.length < 2) continue;
    for (const p of files) {
      duplicated.add(p);
      const others = files.filter((o) => o !== p).map((o) => `${o.file}:${o.id!.line}`).join(', ');
      problems.push({ ...p.id!, file: p.file, message: `id '${id}' is also used by ${others}; ids must be unique across rule files, so none of these rules is loaded` });
    }
  }
  const rules = parsed.filter((p) => p.rule && !duplicated.has(p)).map((p) => p.rule!);
  return { rules, problems: sortProblems(problems) };
}

function readRuleFile(file: string): string | RuleProblem | undefined {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return undefined;
    if (stat.size > MAX_RULE_FILE_BYTES) {
      return { file, line: 1, column: 1, message: `the file is ${stat.size} bytes; a rule file may have at most ${MAX_RULE_FILE_BYTES}` };
    }
    return readFileSync(file, 'utf8');
  } catch (err) {
    return { file, line: 1, column: 1, message: `cannot read the file (${errorCode(err)})` };
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown error';
}

/**
 * Parses one rule file's text. `file` is only used in problems and `Rule.file`. Pass a validator
 * from createRuleValidator when parsing many files; without one, the schema is compiled here.
 */
export function parseRuleFile(text: string, file: string, validator: RuleValidator = createRuleValidator()): { rule?: Rule; problems: RuleProblem[] } {
  const { rule, problems } = parseWithPositions(text, file, validator);
  return rule ? { rule, problems } : { problems };
}

/** `file:line:column: message`, one a line, in file and line order: what `supportbot rules validate` prints. */
export function formatProblems(problems: RuleProblem[]): string {
  return sortProblems(problems).map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n');
}

function sortProblems(problems: RuleProblem[]): RuleProblem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column))
    .filter((p) => {
      const k = `${p.file}\0${p.line}\0${p.column}\0${p.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

interface ParsedFile {
  file: string;
  rule?: Rule;
  problems: RuleProblem[];
  /** The id and where it is written, when the file has a readable one (for duplicate ids). */
  id?: { value: string; line: number; column: number };
}

type Segment = string | number;

/** Where problems point: a YAML document and its line index. */
class Locator {
  constructor(readonly doc: Document, readonly lines: LineCounter, readonly file: string) {}

  /** The key and value nodes at a path (either may be missing). */
  nodes(path: readonly Segment[]): { key?: Node; value?: Node } {
    let value: unknown = this.doc.contents;
    let key: Node | undefined;
    for (const seg of path) {
      if (isMap(value)) {
        const pair = (value as YAMLMap).items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) return { key, value: value as Node };
        key = isScalar(pair.key) ? (pair.key as Scalar) : undefined;
        value = pair.value;
      } else if (isSeq(value)) {
        const item = (value as YAMLSeq).items[Number(seg)];
        if (item === undefined) return { value: value as Node };
        key = undefined;
        value = item;
      } else {
        return { key, value: value as Node | undefined };
      }
    }
    return { key, value: value as Node | undefined };
  }

  /** A problem at the node a path names: its key (`at: 'key'`) or its value. */
  at(path: readonly Segment[], message: string, at: 'key' | 'value' = 'value'): RuleProblem {
    const { key, value } = this.nodes(path);
    const node = at === 'key' ? key ?? value : value && value.range ? value : key;
    return this.offset(node?.range?.[0] ?? firstContentOffset(this.doc), message);
  }

  offset(offset: number, message: string): RuleProblem {
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col, message };
  }
}

function firstContentOffset(doc: Document): number {
  const contents = doc.contents as Node | null;
  return contents?.range?.[0] ?? 0;
}

/** What the yaml package calls its errors, said so a rule author knows what to change. */
const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'this key is already set above in the same mapping; keep one',
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML; indent with spaces',
  BAD_INDENT: 'check the indentation of this line and the lines above',
  BLOCK_AS_IMPLICIT_KEY: 'check the indentation: a nested mapping must start on its own line, indented below its key',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check the indentation and that a colon ends the key',
  MISSING_CHAR: 'a quote or bracket is not closed',
  MULTIPLE_DOCS: 'a rule file holds one rule; put each rule in its own file',
  TAG_RESOLVE_FAILED: 'rule files use plain YAML values; remove the !tag',
};

function parseWithPositions(text: string, file: string, validator: RuleValidator): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const loc = new Locator(doc, lines, file);
  const yamlProblems = [...doc.errors, ...doc.warnings].map((e) => {
    const hint = YAML_HINTS[e.code];
    return loc.offset(e.pos[0], `YAML: ${e.message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, '')}${hint ? ` (${hint})` : ''}`);
  });
  if (yamlProblems.length) return { file, problems: sortProblems(yamlProblems) };
  if (doc.contents === null) return { file, problems: [loc.offset(0, 'the file is empty; a rule starts with id:, description:, type:, filter: and card: (see rules/README.md)')] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved or runaway aliases: the yaml package throws rather than reporting.
    return { file, problems: [loc.offset(0, `YAML: ${err instanceof Error ? err.message : 'cannot read the file'}`)] };
  }
  const problems: RuleProblem[] = [];
  const idValue = isObject(data) && typeof data.id === 'string' ? data.id : undefined;
  const idAt = idValue === undefined ? undefined : loc.at(['id'], '');
  const id = idValue !== undefined && idAt ? { value: idValue, line: idAt.line, column: idAt.column } : undefined;

  const schemaOk = validator.validate(data);
  const structural = schemaOk ? [] : explainAjvErrors(validator.validate.errors ?? [], loc, validator);
  problems.push(...structural.map((s) => s.problem));
  if (!isObject(data)) return { file, problems: sortProblems(problems), ...(id ? { id } : {}) };

  // The checks below read values the schema may have refused, so each looks at the type it needs;
  // the filter is compiled only when the schema found nothing wrong in it.
  const badPaths = structural.map((s) => s.path);
  const rule = checkSemantics(data, loc, problems, !badPaths.some((p) => p[0] === 'filter'));
  if (problems.length || !schemaOk || !rule) return { file, problems: sortProblems(problems), ...(id ? { id } : {}) };
  return { file, rule, problems: [], ...(id ? { id } : {}) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Schema errors → problems

interface Explained {
  path: Segment[];
  problem: RuleProblem;
}

function pointerSegments(pointer: string): Segment[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** A short name for the node at a path: `threshold`, `card.workaround item 2`, `url.path startsWith`, `where item 3`. */
function label(path: readonly Segment[]): string {
  if (path.length === 0) return 'the rule';
  const whereAt = path.indexOf('where');
  if (path[0] === 'filter' && whereAt === 1 && path.length > 2) {
    const inner = path.slice(1);
    const last = inner[inner.length - 1]!;
    const prev = inner[inner.length - 2];
    if (typeof last === 'number') {
      if (prev === 'where' || prev === 'any') return `${prev} item ${last + 1}`;
      return `${label(path.slice(0, -1))} item ${last + 1}`;
    }
    if (typeof prev === 'string' && fieldKind(prev)) return `${prev} ${last}`;
    return String(last);
  }
  const last = path[path.length - 1]!;
  const keys = path.filter((s): s is string => typeof s === 'string');
  if (typeof last === 'number') return `${keys.join('.')} item ${last + 1}`;
  return keys.join('.');
}

function typeWords(type: unknown): string {
  const words: Record<string, string> = {
    string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping (key: value lines)', null: 'nothing',
  };
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => words[String(t)] ?? String(t)).join(' or ');
}

/**
 * "did you mean": the closest name within a small edit distance, or else the one dotted name that
 * abbreviates to it (`doc.id` → `document.id`).
 */
function suggest(word: string, candidates: readonly string[]): string {
  if (word.length > 100) return ''; // nobody mistypes a key that long, and the distance is quadratic
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3))) return ` (did you mean '${best}'?)`;
  const parts = word.toLowerCase().split('.');
  const abbreviated = candidates.filter((c) => {
    const cs = c.toLowerCase().split('.');
    return parts.length === cs.length && parts.length > 1 && parts.every((p, i) => p.length > 0 && cs[i]!.startsWith(p));
  });
  return abbreviated.length === 1 ? ` (did you mean '${abbreviated[0]}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function schemaProperties(schema: unknown): string[] {
  return isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : [];
}

/** The definition whose own keyword failed (`#/definitions/ipCondition/oneOf`), not one deeper inside it. */
function schemaDefinition(schemaPath: string): string | undefined {
  return /^#\/definitions\/([^/]+)\/[^/]+$/.exec(schemaPath)?.[1];
}

function kindOfDefinition(definition: string | undefined): FieldKind | undefined {
  const m = definition ? /^(\w+)Condition$/.exec(definition) : null;
  return m && m[1]! in OPERATORS_BY_KIND ? (m[1] as FieldKind) : undefined;
}

function operatorList(kind: FieldKind): string {
  return OPERATORS_BY_KIND[kind].filter((o) => o !== 'ignoreCase' && o !== 'lte').map((o) => (o === 'gte' ? 'gte/lte' : o)).join(', ');
}

const FIELD_LIST = `${WHERE_FIELDS.join(', ')}, params.<name>`;

/** Turns Ajv's errors into problems at the right nodes, one clear message per mistake. */
function explainAjvErrors(errors: ErrorObject[], loc: Locator, validator: RuleValidator): Explained[] {
  // `if` errors only say "must match then"; errors inside oneOf branches are the branches that did
  // not apply. The errors that matter are reported by the keywords themselves.
  const relevant = errors.filter((e) => e.keyword !== 'if' && !e.schemaPath.includes('/oneOf/'));
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of relevant) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: Explained[] = [];
  for (const e of relevant) {
    const here = byPath.get(e.instancePath)!;
    if (e.keyword === 'oneOf' && here.length > 1) continue;
    if (e.keyword !== 'false schema' && here.some((x) => x.keyword === 'false schema')) continue;
    const explained = explain(e, loc, validator.definitions.get(e.parentSchema) ?? schemaDefinition(e.schemaPath));
    if (explained) out.push(explained);
  }
  return out;
}

function explain(e: ErrorObject, loc: Locator, definition: string | undefined): Explained | undefined {
  const path = pointerSegments(e.instancePath);
  const name = label(path);
  const data: unknown = e.data;
  const params = e.params as Record<string, unknown>;
  const kind = kindOfDefinition(definition);
  const field = typeof path[path.length - 1] === 'string' ? String(path[path.length - 1]) : '';
  const done = (p: Segment[], message: string, at: 'key' | 'value' = 'value'): Explained => ({ path: p, problem: loc.at(p, message, at) });

  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const p = [...path, extra];
      if (definition === 'whereItem') {
        if (extra.startsWith('params.')) return done(p, `'${extra}' is not a request parameter name; after params. use letters, digits and _ - $ @ . (e.g. params.isAcknowledged)`, 'key');
        const hint = suggest(extra, [...WHERE_FIELDS, 'any', 'not']);
        return done(p, hint ? `'${extra}' is not a field${hint}` : `'${extra}' is not a field; a where item names one of: ${FIELD_LIST}, or any / not`, 'key');
      }
      if (kind) {
        const ops = OPERATORS_BY_KIND[kind] as readonly string[];
        return done(p, `'${extra}' is not a condition for ${field}${suggest(extra, ops)}; ${field} takes ${operatorList(kind)}`, 'key');
      }
      const allowed = schemaProperties(e.parentSchema);
      const where = path.length === 0 ? 'a rule' : name;
      return done(p, `'${extra}' is not a key of ${where}${suggest(extra, allowed)}; use ${allowed.join(', ')}`, 'key');
    }
    case 'required': {
      const missing = String(params.missingProperty);
      if (e.schemaPath.startsWith('#/allOf/0/')) {
        const what = missing === 'threshold'
          ? 'threshold: how many matching events for the same key (at least 2), e.g. threshold: 2'
          : 'window: the sliding window those events must fall in, e.g. window: 60m';
        return done(['type'], `type: frequency needs ${what}`);
      }
      if (e.schemaPath.startsWith('#/allOf/2/')) {
        return done(['card'], 'recipients.supervisor is true, so the card needs supervisorNote: the text the supervisor gets', 'key');
      }
      const property = isObject(e.parentSchema) && isObject(e.parentSchema.properties) ? e.parentSchema.properties[missing] : undefined;
      const about = isObject(property) && typeof property.description === 'string' ? ` (${property.description.replace(/(?<=\.) [\s\S]*$/, '')})` : '';
      return done(path, `${path.length ? name : 'the rule'} is missing '${missing}'${about}`, 'key');
    }
    case 'false schema':
      return done(path, `${field} is only for type: frequency; type: any tells about every matching event, so remove ${field} or set type: frequency`, 'key');
    case 'type': {
      if (definition === 'whereItem') {
        return done(path, data === null
          ? `${name} is empty; write one field and its condition, e.g. - http.response.status_code: 403`
          : `${name} is ${show(data)}; write one field and its condition, e.g. - http.response.status_code: 403`);
      }
      if (kind) {
        return done(path, `${field} needs a condition such as { ${OPERATORS_BY_KIND[kind][0]}: ... }, not ${show(data)}; ${field} takes ${operatorList(kind)}`);
      }
      if (path.length === 0) return done(path, `a rule file is a mapping of keys (id:, description:, type:, filter:, card:), not ${show(data)}`);
      const durationMessage = isObject(e.parentSchema) && typeof e.parentSchema.pattern === 'string' && e.parentSchema.pattern.endsWith('[smhd]$') ? e.parentSchema.patternErrorMessage : undefined;
      if (typeof durationMessage === 'string') return done(path, `${name}: ${show(data)} ${durationMessage}`);
      if (data === null) return done(path, `${name} has no value; write ${typeWords(params.type)}`);
      const unquote = typeof data === 'string' && /^-?\d+$/.test(data) && String(params.type).includes('integer') ? '; write the number without quotes' : '';
      const quote = (typeof data === 'number' || typeof data === 'boolean') && params.type === 'string' ? `; put it in quotes: "${String(data)}"` : '';
      return done(path, `${name}: ${show(data)} is not ${typeWords(params.type)}${unquote}${quote}`);
    }
    case 'enum': {
      const allowed = (Array.isArray(params.allowedValues) ? params.allowedValues : []).map(String);
      return done(path, `${name}: ${show(data)} is not one of ${allowed.join(', ')}${typeof data === 'string' ? suggest(data, allowed) : ''}`);
    }
    case 'pattern': {
      const message = isObject(e.parentSchema) && typeof e.parentSchema.patternErrorMessage === 'string' ? e.parentSchema.patternErrorMessage : `does not match ${String(params.pattern)}`;
      return done(path, `${name}: ${show(data)} ${message}`);
    }
    case 'minimum':
      if (path[0] === 'threshold') return done(path, `threshold: ${show(data)} is too small; a frequency rule counts at least 2 events (to tell about every event, use type: any)`);
      return done(path, `${name}: ${show(data)} is less than ${String(params.limit)}, the smallest allowed`);
    case 'maximum':
      return done(path, `${name}: ${show(data)} is more than ${String(params.limit)}, the largest allowed`);
    case 'minLength':
      return done(path, `${name} is empty; write the text`);
    case 'maxLength':
      return done(path, `${name} is longer than ${String(params.limit)} characters; shorten it`);
    case 'minItems':
      return done(path, `${name} is an empty list; give at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}, or remove the key`);
    case 'maxItems':
      return done(path, `${name} has more than ${String(params.limit)} items`);
    case 'uniqueItems':
      return done(path, `${name} lists ${Array.isArray(data) ? show(data[Number(params.j)]) : 'a value'} twice; list each once`);
    case 'minProperties':
      if (definition === 'whereItem') return done(path, `${name} is empty; write one field and its condition, e.g. - http.response.status_code: 403`);
      if (kind) return done(path, `${field}: {} has no condition; ${field} takes ${operatorList(kind)}`);
      if (path.length === 1 && path[0] === 'filter') return done(path, 'filter needs levels, where or both: a rule without conditions would match every event', 'key');
      return done(path, `${name} is empty`);
    case 'maxProperties': {
      const keys = isObject(data) ? Object.keys(data) : [];
      return done(path, `${name} has ${keys.length} fields (${keys.join(', ')}); a where item holds one field and its condition, so start each on its own line with '- '`);
    }
    case 'oneOf': {
      if (!kind) return done(path, `${name}: ${e.message ?? 'is not valid'}`);
      const passing = Array.isArray(params.passingSchemas) ? params.passingSchemas : [];
      const present = isObject(data) ? Object.keys(data).filter((k) => k !== 'ignoreCase' && k !== 'lte') : [];
      if (passing.length > 1 || present.length > 1) {
        return done(path, `${field}: one condition per where item (found ${present.join(' and ')}); write a where item for each`);
      }
      return done(path, `${field}: the condition needs one of ${operatorList(kind)}`);
    }
    case 'dependencies':
      return done(path, `${field}: ignoreCase goes with equals, e.g. ${field}: { equals: APP01, ignoreCase: true }`);
    default:
      return done(path, `${name}: ${e.message ?? 'is not valid'}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Semantic checks and compilation

/** `60m` → 3600000; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : undefined;
}

/** 3600000 → `1h`: the largest unit that divides it exactly (whole seconds, rounded up). */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds === 0) return '0m';
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

function checkSemantics(data: Record<string, unknown>, loc: Locator, problems: RuleProblem[], compileFilter: boolean): Rule | undefined {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

  const windowMs = checkDuration(data.window, ['window'], MAX_WINDOW_MS, '30d', loc, problems);
  const realertMs = checkDuration(data.realert, ['realert'], MAX_REALERT_MS, '365d', loc, problems);

  const recipientsData = isObject(data.recipients) ? data.recipients : {};
  const recipients: Recipients = {
    affected: bool(recipientsData.affected) ?? true,
    supervisor: bool(recipientsData.supervisor) ?? false,
    channel: bool(recipientsData.channel) ?? true,
  };
  const keyText = str(data.key) ?? 'user.id';
  const key = (KEY_FIELDS as readonly string[]).includes(keyText) ? (keyText as KeyField) : undefined;
  if (key && key !== 'user.id' && (recipients.affected || recipients.supervisor)) {
    const who = [recipients.affected ? `recipients.affected is true${'affected' in recipientsData ? '' : ' (the default)'}` : '', recipients.supervisor ? 'recipients.supervisor is true' : '']
      .filter(Boolean).join(' and ');
    problems.push(loc.at(data.key === undefined ? [] : ['key'], `key: ${key} does not name a person, but ${who}; telling a user or their supervisor needs key: user.id (or set affected and supervisor to false and tell only channels)`));
  }
  if (!recipients.affected && !recipients.supervisor && !recipients.channel) {
    problems.push(loc.at(['recipients'], 'recipients: nobody would be told; set at least one of affected, supervisor, channel to true', 'key'));
  }

  const card = isObject(data.card) ? data.card : undefined;
  if (card) {
    for (const part of ['title', 'problem', 'supervisorNote'] as const) checkPlaceholders(card[part], ['card', part], loc, problems);
    if (Array.isArray(card.workaround)) card.workaround.forEach((step, i) => checkPlaceholders(step, ['card', 'workaround', i], loc, problems));
  }

  let filters: Filter[] | undefined;
  if (compileFilter && isObject(data.filter)) filters = compileRuleFilter(data.filter as RuleFile['filter'], loc, problems);

  if (problems.length || !filters || !card || !key) return undefined;
  const file = data as unknown as RuleFile; // the schema has checked every part read below
  const type: RuleTypeOptions = file.type === 'frequency' ? { name: 'frequency', threshold: file.threshold!, windowMs: windowMs! } : { name: 'any' };
  const workaroundCard: WorkaroundCard = {
    title: file.card.title,
    problem: file.card.problem,
    workaround: [...file.card.workaround],
    ...(file.card.supervisorNote !== undefined ? { supervisorNote: file.card.supervisorNote } : {}),
    links: (file.card.links ?? []).map((l) => ({ title: l.title, url: l.url })),
  };
  return {
    id: file.id,
    description: file.description,
    enabled: file.enabled ?? true,
    filters,
    type,
    key,
    realertMs: realertMs ?? DEFAULT_REALERT_MS,
    recipients,
    card: workaroundCard,
    file: loc.file,
  };
}

function checkDuration(value: unknown, path: Segment[], max: number, maxText: string, loc: Locator, problems: RuleProblem[]): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) return undefined; // the schema's pattern reported it
  if (ms > max) problems.push(loc.at(path, `${path[0]}: ${value} is longer than ${maxText}, the longest allowed; write ${maxText} or less`));
  return ms;
}

const PLACEHOLDER_NAMES: readonly string[] = WORKAROUND_PLACEHOLDERS;

function checkPlaceholders(text: unknown, path: Segment[], loc: Locator, problems: RuleProblem[]): void {
  if (typeof text !== 'string') return;
  for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1]!;
    if (PLACEHOLDER_NAMES.includes(name)) continue;
    const hint = suggest(name, PLACEHOLDER_NAMES).replace(/'([^']*)'/, '{$1}');
    problems.push(loc.at(path, `${label(path)}: {${name}} is not a placeholder${hint}; placeholders are ${PLACEHOLDER_NAMES.map((p) => `{${p}}`).join(', ')}`));
  }
}

function compileRuleFilter(filter: RuleFile['filter'], loc: Locator, problems: RuleProblem[]): Filter[] | undefined {
  const filters: Filter[] = [];
  const before = problems.length;
  if (filter.levels) {
    const levels = filter.levels;
    filters.push(levels.length === 1 ? { op: 'eq', field: 'log.level', value: levels[0]! } : { op: 'in', field: 'log.level', values: [...levels] });
  }
  (filter.where ?? []).forEach((item, i) => {
    const path: Segment[] = ['filter', 'where', i];
    const compiled = compileItem(item, path, loc, problems);
    if (!compiled) return;
    // The query validator is the last word on what the stores accept; run it per item so a
    // problem it finds points at that item.
    try {
      validateLogQuery({ filters: [compiled], shape: { kind: 'count' } });
    } catch (err) {
      if (!(err instanceof InvalidQueryError)) throw err;
      problems.push(loc.at(path, `${label(path)}: ${err.message.replace(/^filters\[0\](?:\.filters\[\d+\]|\.filter)*\.?(?::\s*)?/, '')}`));
    }
    filters.push(compiled);
  });
  if (problems.length > before) return undefined;
  try {
    return validateLogQuery({ filters, shape: { kind: 'count' } }).filters;
  } catch (err) {
    if (!(err instanceof InvalidQueryError)) throw err;
    problems.push(loc.at(['filter'], `filter: ${err.message}`, 'key'));
    return undefined;
  }
}

function compileItem(item: WhereItemData, path: Segment[], loc: Locator, problems: RuleProblem[]): Filter | undefined {
  const [key, value] = Object.entries(item)[0]!;
  if (key === 'any') {
    const items = value as WhereItemData[];
    const filters = items.map((x, i) => compileItem(x, [...path, 'any', i], loc, problems));
    return filters.every((f): f is Filter => f !== undefined) ? { op: 'any', filters } : undefined;
  }
  if (key === 'not') {
    const inner = compileItem(value as WhereItemData, [...path, 'not'], loc, problems);
    return inner && { op: 'not', filter: inner };
  }
  const kind = fieldKind(key)!;
  const at = [...path, key];
  const condition: Record<string, unknown> = isObject(value) ? value : kind === 'ip' ? { cidr: value } : { equals: value };
  const op = (Object.keys(condition).find((k) => k !== 'ignoreCase' && k !== 'lte') ?? 'lte') as ConditionOperator;
  const opPath = isObject(value) ? [...at, op] : at;
  const problem = (message: string, p: Segment[] = opPath) => {
    problems.push(loc.at(p, message));
    return undefined;
  };
  const eqField = key as EqField;
  const typed = (v: unknown): string | number => (kind === 'numeric' ? (v as number) : String(v));
  const cidr = (v: unknown, p: Segment[]): Filter | undefined => {
    const text = String(v);
    if (isIP(text) || parseCidr(text)) return { op: 'cidr', field: 'source.ip', value: text };
    return problem(`source.ip: '${text}' is not an IP address or CIDR block; write an address (10.20.5.122) or a block (198.51.100.0/24)`, p);
  };
  const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  const text = (v: unknown) => String(v);

  switch (op) {
    case 'equals': {
      const eq: Filter = { op: 'eq', field: eqField, value: typed(condition.equals) };
      if (condition.ignoreCase === true) {
        if (typeof eq.value !== 'string' || !/^[\x20-\x7e]*$/.test(eq.value)) return problem(`${key}: ignoreCase works only for plain ASCII text; remove ignoreCase or write the exact value`, [...at, 'ignoreCase']);
        eq.caseInsensitive = true;
      }
      return eq;
    }
    case 'in':
      if (kind === 'ip') {
        const blocks = listOf(condition.in).map((v, i) => cidr(v, [...opPath, i]));
        return blocks.every((b): b is Filter => b !== undefined) ? { op: 'any', filters: blocks } : undefined;
      }
      return { op: 'in', field: eqField, values: listOf(condition.in).map(typed) };
    case 'not': {
      const v = condition.not;
      if (kind === 'ip') {
        const blocks = listOf(v).map((x, i) => cidr(x, Array.isArray(v) ? [...opPath, i] : opPath));
        if (!blocks.every((b): b is Filter => b !== undefined)) return undefined;
        return { op: 'not', filter: Array.isArray(v) ? { op: 'any', filters: blocks } : blocks[0]! };
      }
      return Array.isArray(v)
        ? { op: 'not', filter: { op: 'in', field: eqField, values: v.map(typed) } }
        : { op: 'not', filter: { op: 'eq', field: eqField, value: typed(v) } };
    }
    case 'gte':
    case 'lte': {
      const range: Filter = { op: 'range', field: key as NumericField };
      if (typeof condition.gte === 'number') range.gte = condition.gte;
      if (typeof condition.lte === 'number') range.lte = condition.lte;
      if (range.gte !== undefined && range.lte !== undefined && range.gte > range.lte) {
        return problem(`${key}: gte ${range.gte} is above lte ${range.lte}, so nothing can match; swap them`, at);
      }
      return range;
    }
    case 'cidr':
      return cidr(condition.cidr, opPath);
    case 'phrase': {
      const phrase = text(condition.phrase);
      if (tokenize(phrase).length === 0) return problem(`message phrase: '${phrase}' has no words to search for; a phrase is words in order, e.g. { phrase: Not authorized } (for exact text use contains)`);
      return { op: 'phrase', field: 'message', value: phrase };
    }
    case 'startsWith':
      return { op: 'prefix', field: key as 'message', value: text(condition.startsWith) };
    case 'contains':
      return { op: 'contains', field: key as 'message', value: text(condition.contains) };
    case 'pattern':
      return { op: 'wildcard', field: key as 'message', value: text(condition.pattern) };
    case 'missing': {
      const exists: Filter = { op: 'exists', field: key as KeywordField };
      return condition.missing === true ? { op: 'not', filter: exists } : exists;
    }
    case 'ignoreCase':
      return undefined; // the schema requires equals with it
  }
}

type WhereItemData = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// LogQuery filters → YAML (rule from a question)

/** What ruleToYaml needs: a Rule, or a draft with only id, description and filters. */
export interface RuleDraft {
  id: string;
  description: string;
  filters: Filter[];
  enabled?: boolean;
  type?: RuleTypeOptions;
  key?: KeyField;
  realertMs?: number;
  recipients?: Partial<Recipients>;
  card?: Partial<WorkaroundCard>;
  /** The chat question the filters came from, kept as a comment. */
  question?: string;
}

/**
 * A rule file for a draft: the filter list of a LogQuery (as the chat parser makes it) written
 * back in the `where` form, for a person to review and edit. Parsing the text again gives the same
 * filters. Without a card the draft gets a stub card and `enabled: false`, so an unedited draft
 * never alerts anyone.
 */
export function ruleToYaml(draft: RuleDraft): string {
  const doc = new Document();
  const header = [' yaml-language-server: $schema=./rule.schema.json'];
  if (draft.question !== undefined) header.push(` Drafted from the chat question: ${draft.question.replace(/\s+/g, ' ')}`);
  header.push(' A rule watches new events as they arrive: the time range of a question is not part of it.');
  if (!draft.card) header.push(' Review the filter, write the card, then set enabled: true.');
  doc.commentBefore = header.join('\n');

  const levelsFirst = draft.filters[0] && levelsOf(draft.filters[0]);
  const where = (levelsFirst ? draft.filters.slice(1) : draft.filters).map((f) => whereItem(f, doc));
  const filter = doc.createNode({}) as YAMLMap;
  if (levelsFirst) {
    const levels = doc.createNode(levelsFirst) as YAMLSeq;
    levels.flow = true;
    filter.set('levels', levels);
  }
  if (where.length) filter.set('where', doc.createNode(where.map((w) => w.node)));
  if (!filter.items.length) filter.commentBefore = ' Add conditions: a rule without any would match every event.';

  const type = draft.type ?? { name: 'any' };
  const recipients = { affected: true, supervisor: false, channel: true, ...draft.recipients };
  const card = draft.card;
  const root = doc.createNode({}) as YAMLMap;
  root.set('id', draft.id);
  root.set('description', draft.description);
  root.set('enabled', draft.enabled ?? (card ? true : false));
  root.set('type', type.name);
  if (type.name === 'frequency') {
    root.set('threshold', type.threshold);
    root.set('window', formatDuration(type.windowMs));
  }
  root.set('key', draft.key ?? 'user.id');
  root.set('realert', formatDuration(draft.realertMs ?? DEFAULT_REALERT_MS));
  root.set('filter', filter);
  const recipientsNode = doc.createNode({ affected: recipients.affected, supervisor: recipients.supervisor, channel: recipients.channel }) as YAMLMap;
  recipientsNode.flow = true;
  root.set('recipients', recipientsNode);
  const cardNode = doc.createNode({
    title: card?.title ?? draft.description,
    problem: card?.problem ?? 'Something you did at {time} did not work.',
    workaround: card?.workaround ?? ['Write the steps that get the user going again.'],
    ...(card?.supervisorNote !== undefined ? { supervisorNote: card.supervisorNote } : {}),
    ...(card?.links?.length ? { links: card.links } : {}),
  }) as YAMLMap;
  if (!card) cardNode.commentBefore = ' A stub: say what happened and what to do, in plain words.';
  root.set('card', cardNode);
  doc.contents = root;
  return doc.toString({ lineWidth: 0 });
}

/** The levels a `log.level` filter lists, when it is one `filter.levels` can say. */
function levelsOf(f: Filter): LogLevel[] | undefined {
  const isLevel = (v: unknown): v is LogLevel => typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
  if (f.op === 'eq' && f.field === 'log.level' && isLevel(f.value) && !f.caseInsensitive) return [f.value];
  if (f.op === 'in' && f.field === 'log.level' && f.values.every(isLevel) && new Set(f.values).size === f.values.length) return f.values as LogLevel[];
  return undefined;
}

function whereItem(f: Filter, doc: Document): { node: Node } {
  const item = (field: string, value: unknown, flow = true): { node: Node } => {
    const node = doc.createNode(value);
    if (isMap(node) || isSeq(node)) (node as YAMLMap | YAMLSeq).flow = flow;
    const map = doc.createNode({}) as YAMLMap;
    map.set(field, node);
    return { node: map };
  };
  switch (f.op) {
    case 'eq':
      if (f.caseInsensitive) {
        const node = item(f.field, { equals: f.value, ignoreCase: true });
        node.node.commentBefore = ' compared without regard to case';
        return node;
      }
      return item(f.field, f.value);
    case 'in':
      return item(f.field, { in: f.values });
    case 'range':
      return item(f.field, { ...(f.gte !== undefined ? { gte: f.gte } : {}), ...(f.lte !== undefined ? { lte: f.lte } : {}) });
    case 'cidr':
      return item(f.field, { cidr: f.value });
    case 'phrase':
      return item(f.field, { phrase: f.value });
    case 'prefix':
      return item(f.field, { startsWith: f.value });
    case 'contains':
      return item(f.field, { contains: f.value });
    case 'wildcard':
      return item(f.field, { pattern: f.value });
    case 'exists':
      return item(f.field, { missing: false });
    case 'not': {
      const inner = f.filter;
      if (inner.op === 'eq' && !inner.caseInsensitive) return item(inner.field, { not: inner.value });
      if (inner.op === 'in') return item(inner.field, { not: inner.values });
      if (inner.op === 'exists') return item(inner.field, { missing: true });
      if (inner.op === 'cidr') return item(inner.field, { not: inner.value });
      const map = doc.createNode({}) as YAMLMap;
      map.set('not', whereItem(inner, doc).node);
      return { node: map };
    }
    case 'any': {
      const map = doc.createNode({}) as YAMLMap;
      map.set('any', doc.createNode(f.filters.map((x) => whereItem(x, doc).node)));
      return { node: map };
    }
  }
}
