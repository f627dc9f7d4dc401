import assert from 'node:assert/strict';
import { compileLayout, createParser, errorFields, FileParser, parseParams } from '../../src/logs/nlog-parser';
import { loadSourcesConfig, parseSourcesConfig, sourceFor, SourcesConfigError } from '../../src/logs/sources';
import { TimestampError, TimestampReader } from '../../src/logs/timestamps';

const sources = loadSourcesConfig();

/** Feeds text (any line endings) to the parser a path would get, like the file reader does. */
function parse(path: string, text: string) {
  const match = sourceFor(sources, `/srv/logs/${path}`)!;
  const format = match.source.format === 'auto' ? (text.trimStart().startsWith('{') ? 'nlog-json' : 'nlog-text') : match.source.format;
  const parser: FileParser = createParser(format, { source: match.source, groups: match.groups, relPath: path });
  let offset = 0;
  text.split('\n').forEach((raw, i, all) => {
    if (i === all.length - 1 && raw === '') return;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    offset += Buffer.byteLength(raw) + 1;
    parser.feed({ text: line.includes('\uFFFE') ? undefined : line, lineNo: i + 1, endOffset: offset });
  });
  parser.flush();
  const out = parser.take();
  return { events: out.events.map((e) => e.event), ids: out.events.map((e) => e.id), malformed: out.malformed };
}

const API_LINE =
  '{"time":"2020-06-12T12:57:15.000+02:00","level":"Error","logger":"Contoso.Api.Controllers.DocumentsController","message":"Not authorized","node":"APP01","requestId":"0HM0F6A2C14B:00000014","userId":1087,"method":"PUT","url":"/api/documents/11213?x=1","statusCode":403,"elapsedMs":87,"clientIp":"10.20.9.47","documentId":11213,"documentType":"Service Hours Adjustment","params":"{\\"hours\\":3,\\"reason\\":\\"correction\\"}"}';

describe('nlog JsonLayout parser', () => {
  it('maps every attribute to its ECS field', () => {
    const { events, malformed } = parse('APP01/api/2020-06-12.log', API_LINE + '\r\n');
    assert.deepEqual(malformed, []);
    assert.deepEqual(events[0], {
      '@timestamp': '2020-06-12T10:57:15.000Z',
      'log.level': 'error',
      'log.logger': 'Contoso.Api.Controllers.DocumentsController',
      message: 'Not authorized',
      'host.name': 'APP01',
      'event.dataset': 'api',
      'http.request.id': '0HM0F6A2C14B:00000014',
      'user.id': '1087',
      'http.request.method': 'PUT',
      'url.path': '/api/documents/11213',
      'http.route': '/api/documents/{id}',
      'http.response.status_code': 403,
      'event.duration': 87_000_000,
      'source.ip': '10.20.9.47',
      'document.id': '11213',
      'document.type': 'Service Hours Adjustment',
      'http.request.params': '{"hours":3,"reason":"correction"}',
      params: { hours: '3', reason: 'correction' },
      'log.file.path': 'APP01/api/2020-06-12.log',
      'log.file.line': 1,
    });
  });

  it('keeps unknown attributes as labels and an invalid address as a label, not losing the event', () => {
    const { events } = parse('APP01/api/x.log', '{"time":"2020-06-12T12:57:15Z","level":"Info","message":"m","tenant":"north","clientIp":"not-an-ip"}\n');
    assert.deepEqual(events[0]!.labels, { tenant: 'north', clientIp: 'not-an-ip' });
    assert.equal(events[0]!['source.ip'], undefined);
  });

  it('reports bad lines with path:line and a reason, and keeps their neighbours', () => {
    const lines = [
      API_LINE,
      API_LINE.slice(0, 80),
      '\u0000\u0001\u0002garbage\u0003',
      '[1,2,3]',
      '{"time":"2020-13-45T25:61:00Z","level":"Info","message":"impossible"}',
      '{"time":"2020-02-30 10:00:00.0000","level":"Info","message":"no such day"}',
      '{"level":"Info","message":"no time"}',
      '{"time":"2020-06-12T12:57:15Z","level":"Loud","message":"unknown level"}',
      '{"time":"2020-06-12T12:57:15Z","level":"Info","message":"bad status","statusCode":"abc"}',
      '',
      API_LINE.replace('"userId":1087', '"userId":1088'),
    ];
    const { events, malformed } = parse('APP01/api/2020-06-12.log', lines.join('\r\n') + '\r\n');
    assert.deepEqual(events.map((e) => [e['log.file.line'], e['user.id']]), [[1, '1087'], [11, '1088']]);
    assert.deepEqual(malformed, [
      { source: 'APP01/api/2020-06-12.log:2', reason: malformed[0]!.reason },
      { source: 'APP01/api/2020-06-12.log:3', reason: 'not text: control characters (binary data?)' },
      { source: 'APP01/api/2020-06-12.log:4', reason: 'not a JSON object' },
      { source: 'APP01/api/2020-06-12.log:5', reason: "impossible timestamp '2020-13-45T25:61:00Z'" },
      { source: 'APP01/api/2020-06-12.log:6', reason: "impossible timestamp '2020-02-30 10:00:00.0000'" },
      { source: 'APP01/api/2020-06-12.log:7', reason: 'no timestamp (time)' },
      { source: 'APP01/api/2020-06-12.log:8', reason: "unknown level 'Loud'" },
      { source: 'APP01/api/2020-06-12.log:9', reason: "statusCode is not a number: 'abc'" },
    ]);
    assert.match(malformed[0]!.reason, /^truncated JSON: /);
  });
});

const AUTH = [
  '2020-06-08 13:27:46.9412|ERROR|Contoso.Auth.LoginController|Login failed for user \'y.larsen\' (id 1155) from 10.20.5.122 System.FormatException: The input is not a valid Base-64 string.',
  '   at System.Convert.FromBase64CharPtr(Char* inputPtr, Int32 inputLength)',
  '   at Contoso.Auth.PasswordHasher.Normalize(String password)',
  '2020-06-08 13:28:00.0001|INFO|Contoso.Auth.LoginController|Login succeeded for user \'z.nguyen\' (id 1237) from 2001:db8::1',
  '2020-06-08 13:29:00.5|WARN|Contoso.Auth.LoginController|Login failed for user \'c.ivanova2\' (id 1138) from 10.20.8.214: invalid credentials',
];

describe('nlog text layout parser', () => {
  it('joins a multi-line exception to its event and splits it from the message', () => {
    const { events, malformed } = parse('APP01/auth/2020-06-08.log', AUTH.join('\r\n') + '\r\n');
    assert.deepEqual(malformed, []);
    assert.equal(events.length, 3);
    assert.deepEqual(events[0], {
      '@timestamp': '2020-06-08T11:27:46.941Z',
      'log.level': 'error',
      'log.logger': 'Contoso.Auth.LoginController',
      message: "Login failed for user 'y.larsen' (id 1155) from 10.20.5.122",
      'host.name': 'APP01',
      'event.dataset': 'auth',
      'user.id': '1155',
      'user.name': 'y.larsen',
      'source.ip': '10.20.5.122',
      'error.type': 'System.FormatException',
      'error.message': 'The input is not a valid Base-64 string.',
      'error.stack_trace':
        'System.FormatException: The input is not a valid Base-64 string.\n   at System.Convert.FromBase64CharPtr(Char* inputPtr, Int32 inputLength)\n   at Contoso.Auth.PasswordHasher.Normalize(String password)',
      'log.file.path': 'APP01/auth/2020-06-08.log',
      'log.file.line': 1,
    });
    assert.equal(events[1]!['source.ip'], '2001:db8::1');
    assert.equal(events[2]!['log.file.line'], 5);
    assert.equal(events[2]!['source.ip'], '10.20.8.214', 'the colon after the address is not part of it');
    assert.equal(events[2]!['@timestamp'], '2020-06-08T11:29:00.500Z');
  });

  it('reads local time in the source zone: summer and winter offsets', () => {
    const winter = parse('APP01/auth/2020-01-08.log', '2020-01-08 13:00:00.0000|INFO|L|m\n');
    assert.equal(winter.events[0]!['@timestamp'], '2020-01-08T12:00:00.000Z');
    const summer = parse('APP01/auth/2020-07-08.log', '2020-07-08 13:00:00.0000|INFO|L|m\n');
    assert.equal(summer.events[0]!['@timestamp'], '2020-07-08T11:00:00.000Z');
  });

  it('reports garbage and orphan lines without gluing them to the event above', () => {
    const text = [
      '   at Orphan.Frame()',
      AUTH[0],
      AUTH[1],
      '\u0007\u0000binary',
      AUTH[2],
      '2020-13-08 13:28:00.0001|INFO|X|impossible month',
      '   at Belongs.To.The.Impossible.Event()',
      '2020-06-08 13:28:00.0001 no separators here',
      AUTH[3],
    ].join('\n');
    const { events, malformed } = parse('APP01/auth/2020-06-08.log', text + '\n');
    assert.deepEqual(events.map((e) => e['log.file.line']), [2, 9]);
    assert.match(events[0]!['error.stack_trace']!, /FromBase64CharPtr[^]*PasswordHasher/);
    assert.ok(!events[0]!['error.stack_trace']!.includes('binary'));
    assert.deepEqual(malformed.map((m) => m.source), [
      'APP01/auth/2020-06-08.log:1',
      'APP01/auth/2020-06-08.log:4',
      'APP01/auth/2020-06-08.log:6',
      'APP01/auth/2020-06-08.log:8',
    ]);
    assert.equal(malformed[0]!.reason, 'does not start with a timestamp and follows no event');
    assert.equal(malformed[2]!.reason, "impossible timestamp '2020-13-08 13:28:00.0001'");
    assert.match(malformed[3]!.reason, /does not match the layout/);
  });

  it('reports bytes that are not UTF-8', () => {
    const { malformed } = parse('APP01/auth/x.log', `${AUTH[3]}\n\uFFFE\n${AUTH[4]}\n`);
    assert.deepEqual(malformed, [{ source: 'APP01/auth/x.log:2', reason: 'not text: invalid UTF-8 (binary data?)' }]);
  });

  it('gives the same ids for the same lines and different ids for other files', () => {
    const a = parse('APP01/auth/2020-06-08.log', AUTH.join('\n'));
    const b = parse('APP01/auth/2020-06-08.log', AUTH.join('\r\n'));
    const c = parse('APP02/auth/2020-06-08.log', AUTH.join('\n'));
    assert.deepEqual(a.ids, b.ids);
    assert.notDeepEqual(a.ids, c.ids);
  });
});

describe('layouts, parameters, exceptions', () => {
  it('compiles other nlog layouts', () => {
    const re = compileLayout('${longdate} [${threadid}] ${level:uppercase=true} ${logger} - ${message}');
    const m = re.exec('2020-06-08 13:27:46.9412 [12] WARN Contoso.X - hello | world')!;
    assert.deepEqual({ ...m.groups }, { time: '2020-06-08 13:27:46.9412', level: 'WARN', logger: 'Contoso.X', message: 'hello | world' });
  });

  it('reads request parameters from JSON or a query string', () => {
    assert.deepEqual(parseParams('{"a":1,"b":true,"c":null,"d":{"e":1}}'), { a: '1', b: 'true', c: 'null', d: '{"e":1}' });
    assert.deepEqual(parseParams('password=s3cr%40t&x=1'), { password: 's3cr@t', x: '1' });
    assert.equal(parseParams('not params'), undefined);
    assert.equal(parseParams('{"broken'), undefined);
  });

  it('splits .NET exception text and nlog exception objects', () => {
    assert.deepEqual(errorFields('System.TimeoutException: took too long\n   at X.Y()'), {
      'error.type': 'System.TimeoutException',
      'error.message': 'took too long',
      'error.stack_trace': 'System.TimeoutException: took too long\n   at X.Y()',
    });
    assert.deepEqual(errorFields({ Type: 'System.IO.IOException', Message: 'disk', StackTrace: '   at A.B()' }), {
      'error.type': 'System.IO.IOException',
      'error.message': 'disk',
      'error.stack_trace': 'System.IO.IOException: disk\n   at A.B()',
    });
  });

  it('converts timestamps strictly', () => {
    const berlin = new TimestampReader('Europe/Berlin');
    assert.equal(new Date(berlin.read('2020-06-12T12:57:15.1234567+02:00')).toISOString(), '2020-06-12T10:57:15.123Z');
    assert.equal(new Date(berlin.read('2020-02-29 12:00:00')).toISOString(), '2020-02-29T11:00:00.000Z');
    for (const bad of ['2019-02-29 12:00:00', '2020-06-12 24:00:00', '2020-06-12T12:00:00+15:00', '12/06/2020']) {
      assert.throws(() => berlin.read(bad), TimestampError, bad);
    }
    assert.throws(() => new TimestampReader('Mars/Olympus'), /unknown time zone/);
  });
});

describe('sources configuration', () => {
  it('the shipped file fits the sample layout', () => {
    assert.equal(sourceFor(sources, '/x/logs/APP02/auth/2020-06-08.log')!.groups.host, 'APP02');
    assert.equal(sourceFor(sources, 'C:\\logs\\APP01\\api\\2020-06-08.log')!.source.name, 'api');
    assert.equal(sourceFor(sources, '/x/notes.md'), undefined);
  });

  it('lists every problem of an invalid file', () => {
    try {
      parseSourcesConfig(
        `sources:\n  - path: '(unclosed'\n    format: xml\n    timezone: Mars/Olympus\n    patterns: ['(?<shoeSize>\\\\d+)']\n    colour: red\n`,
        'bad.yaml',
      );
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof SourcesConfigError);
      assert.equal(err.problems.length, 5, err.message);
      assert.match(err.message, /unknown key 'colour'/);
      assert.match(err.message, /sources\[0\]\.path: Invalid regular expression/);
      assert.match(err.message, /format: must be nlog-json, nlog-text or auto, not 'xml'/);
      assert.match(err.message, /'Mars\/Olympus' is not an IANA time zone/);
      assert.match(err.message, /group 'shoeSize' is not a known field/);
    }
    assert.throws(() => parseSourcesConfig('sources: [\n', 'x.yaml'), /YAML/);
    assert.throws(() => parseSourcesConfig('other: 1\n', 'x.yaml'), /non-empty list/);
  });
});
