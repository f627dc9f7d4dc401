import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { projectPath } from '../paths';
import { isValidZone } from './timestamps';

export type SourceFormat = 'nlog-json' | 'nlog-text' | 'auto';

export interface SourceConfig {
  name: string;
  /** Tested against the file path (with `/` separators); named groups `host` and `dataset` fill those fields. */
  path: RegExp;
  format: SourceFormat;
  /** IANA zone for timestamps without an offset. */
  timezone: string;
  /** nlog text layout, e.g. `${longdate}|${level}|${logger}|${message}`. */
  layout: string;
  /** Tried on the message in order; every named group that matches fills a field. */
  patterns: RegExp[];
  /** Extra JSON attribute → field name mappings (names as in FIELD_ALIASES values or aliases). */
  fields: Record<string, string>;
  host?: string;
  dataset?: string;
}

export interface SourcesConfig {
  file: string;
  sources: SourceConfig[];
}

export const DEFAULT_LAYOUT = '${longdate}|${level:uppercase=true}|${logger}|${message} ${exception:format=tostring}';

/** Default sources shipped with the product: the sample layout logs/<node>/<api|auth>/<date>.log. */
export const DEFAULT_SOURCES_FILE = projectPath('config', 'sources.yaml');

/**
 * Names under which nlog layouts commonly write a value, mapped to the canonical name the parser
 * understands. Used for JSON attributes and for named groups in `patterns` alike.
 */
export const FIELD_ALIASES: Record<string, CanonicalField> = {
  time: 'time', timestamp: 'time', '@timestamp': 'time', date: 'time', longdate: 'time',
  level: 'level', severity: 'level',
  logger: 'logger', loggername: 'logger',
  message: 'message', msg: 'message',
  node: 'host', host: 'host', machinename: 'host', hostname: 'host',
  dataset: 'dataset',
  requestid: 'requestId', traceid: 'requestId', correlationid: 'requestId',
  userid: 'userId', uid: 'userId',
  login: 'login', username: 'login', user: 'login',
  method: 'method', httpmethod: 'method',
  url: 'url', path: 'url', urlpath: 'url',
  statuscode: 'statusCode', status: 'statusCode',
  elapsedms: 'elapsedMs', durationms: 'elapsedMs', elapsed: 'elapsedMs',
  clientip: 'clientIp', ip: 'clientIp', remoteip: 'clientIp', remoteaddress: 'clientIp',
  documentid: 'documentId', documenttype: 'documentType', entityid: 'entityId',
  params: 'params', parameters: 'params',
  exception: 'exception', error: 'exception',
};

export type CanonicalField =
  | 'time' | 'level' | 'logger' | 'message' | 'host' | 'dataset' | 'requestId' | 'userId' | 'login'
  | 'method' | 'url' | 'statusCode' | 'elapsedMs' | 'clientIp' | 'documentId' | 'documentType'
  | 'entityId' | 'params' | 'exception';

const canonicalCache = new Map<string, CanonicalField | undefined>();

export function canonicalField(name: string): CanonicalField | undefined {
  let field = canonicalCache.get(name);
  if (field === undefined && !canonicalCache.has(name)) {
    field = FIELD_ALIASES[name.toLowerCase().replace(/[_.\-]/g, '')];
    if (canonicalCache.size < 10_000) canonicalCache.set(name, field);
  }
  return field;
}

export class SourcesConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid sources configuration ${file}:\n  ${problems.join('\n  ')}`);
  }
}

export function loadSourcesConfig(file = DEFAULT_SOURCES_FILE): SourcesConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SourcesConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseSourcesConfig(text, file);
}

export function parseSourcesConfig(text: string, file = '<inline>'): SourcesConfig {
  const doc = parseDocument(text, { prettyErrors: false });
  const problems: string[] = doc.errors.map((e) => `YAML: ${e.message}`);
  if (problems.length) throw new SourcesConfigError(file, problems);
  const root = doc.toJS() as unknown;
  const list = (root as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SourcesConfigError(file, ['`sources` must be a non-empty list']);
  }
  const sources: SourceConfig[] = [];
  list.forEach((raw: unknown, i: number) => {
    const at = `sources[${i}]`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${at}: must be a mapping`);
      return;
    }
    const r = raw as Record<string, unknown>;
    const known = new Set(['name', 'path', 'format', 'timezone', 'layout', 'patterns', 'fields', 'host', 'dataset']);
    for (const key of Object.keys(r)) if (!known.has(key)) problems.push(`${at}: unknown key '${key}'`);
    const name = typeof r.name === 'string' && r.name ? r.name : `#${i + 1}`;
    const path = compile(r.path, `${at}.path`, problems);
    const format = r.format ?? 'auto';
    if (format !== 'nlog-json' && format !== 'nlog-text' && format !== 'auto') {
      problems.push(`${at}.format: must be nlog-json, nlog-text or auto, not '${String(format)}'`);
    }
    const timezone = r.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isValidZone(timezone)) {
      problems.push(`${at}.timezone: '${String(timezone)}' is not an IANA time zone (e.g. Europe/Berlin)`);
    }
    const layout = r.layout ?? DEFAULT_LAYOUT;
    if (typeof layout !== 'string' || !/\$\{(?:longdate|date)[^}]*\}/.test(layout) || !layout.includes('${message')) {
      problems.push(`${at}.layout: must contain a \${longdate} (or \${date}) and a \${message}`);
    }
    const patterns: RegExp[] = [];
    if (r.patterns !== undefined) {
      if (!Array.isArray(r.patterns)) problems.push(`${at}.patterns: must be a list of regular expressions`);
      else
        r.patterns.forEach((p: unknown, j: number) => {
          const re = compile(p, `${at}.patterns[${j}]`, problems);
          if (!re) return;
          for (const group of namedGroups(re)) {
            if (!canonicalField(group)) problems.push(`${at}.patterns[${j}]: group '${group}' is not a known field`);
          }
          patterns.push(re);
        });
    }
    const fields: Record<string, string> = {};
    if (r.fields !== undefined) {
      if (typeof r.fields !== 'object' || r.fields === null || Array.isArray(r.fields)) {
        problems.push(`${at}.fields: must map attribute names to field names`);
      } else {
        for (const [attr, target] of Object.entries(r.fields as Record<string, unknown>)) {
          if (typeof target !== 'string' || !canonicalField(target)) {
            problems.push(`${at}.fields.${attr}: '${String(target)}' is not a known field`);
          } else fields[attr] = target;
        }
      }
    }
    for (const key of ['host', 'dataset'] as const) {
      if (r[key] !== undefined && typeof r[key] !== 'string') problems.push(`${at}.${key}: must be a string`);
    }
    if (path) {
      sources.push({
        name, path, format: format as SourceFormat, timezone: String(timezone), layout: String(layout), patterns, fields,
        ...(typeof r.host === 'string' ? { host: r.host } : {}),
        ...(typeof r.dataset === 'string' ? { dataset: r.dataset } : {}),
      });
    }
  });
  if (problems.length) throw new SourcesConfigError(file, problems);
  return { file, sources };
}

function compile(value: unknown, at: string, problems: string[]): RegExp | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${at}: must be a regular expression`);
    return undefined;
  }
  try {
    return new RegExp(value);
  } catch (err) {
    problems.push(`${at}: ${(err as Error).message}`);
    return undefined;
  }
}

function namedGroups(re: RegExp): string[] {
  return [...re.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
}

/** The first source whose `path` matches, with the groups it captured. */
export function sourceFor(config: SourcesConfig, path: string): { source: SourceConfig; groups: Record<string, string> } | undefined {
  const normalized = path.replace(/\\/g, '/');
  for (const source of config.sources) {
    const m = source.path.exec(normalized);
    if (m) return { source, groups: { ...(m.groups ?? {}) } };
  }
  return undefined;
}
