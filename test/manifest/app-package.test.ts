import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateRawSync, inflateSync } from 'node:zlib';
import Ajv from 'ajv-draft-04';
import { encodePng, colorIcon, outlineIcon } from '../../scripts/make-icons';
import { CHAT_COMMANDS, Scope } from '../../src/chat-commands';
import { AppPackageError, buildAppPackage } from '../../src/manifest/app-package';
import { projectPath } from '../../src/paths';

/** The parts of manifest.json these tests read. */
interface Manifest {
  id: string;
  version: string;
  developer: { name: string; websiteUrl: string; privacyUrl: string; termsOfUseUrl: string };
  icons: { color: string; outline: string };
  bots: { botId: string; scopes: string[]; commandLists: { scopes: string[]; commands: { title: string; description?: string }[] }[] }[];
  staticTabs: { entityId: string; contentUrl: string; scopes: string[] }[];
  configurableTabs: { configurationUrl: string; scopes: string[] }[];
  validDomains: string[];
  webApplicationInfo: { id: string; resource: string };
}

interface Png {
  width: number;
  height: number;
  colourType: number;
  /** 8-bit RGBA, whatever the file's colour type (only 2 and 6 are decoded). */
  rgba: Uint8Array;
}

const BOT_ID = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const TEAMS_APP_ID = 'a1b2c3d4-e5f6-4789-abcd-ef0123456789';
const COMPLETE: Record<string, string> = {
  MicrosoftAppId: BOT_ID,
  TEAMS_APP_ID,
  BOT_DOMAIN: 'supportbot.contoso.com',
  TAB_BASE_URL: 'https://supportbot.contoso.com',
  APP_VERSION: '1.4.2',
  DEVELOPER_NAME: 'Contoso IT',
  DEVELOPER_URL: 'https://it.contoso.com',
  PRIVACY_URL: 'https://it.contoso.com/privacy',
  TERMS_URL: 'https://it.contoso.com/terms',
};

/** Reads a stored/deflated zip without ZIP64 from its central directory, checking every CRC. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory header');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    assert.equal(zip.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const body = zip.subarray(start, start + compressed);
    assert.ok(method === 0 || method === 8, `${name}: method ${method}`);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    assert.equal(data.length, size, `${name}: size`);
    assert.equal(crc32(data), crc, `${name}: CRC-32`);
    files.set(name, data);
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG, checking chunk CRCs; any filter type. */
function decodePng(file: Buffer): Png {
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const idat: Buffer[] = [];
  let header: Buffer | undefined;
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    assert.equal(file.readUInt32BE(at + 8 + length), crc32(file.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    if (type === 'IHDR') header = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  assert.ok(header, 'IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const colourType = header[9]!;
  assert.equal(header[8], 8, 'bit depth');
  assert.equal(header[12], 0, 'not interlaced');
  assert.ok(colourType === 2 || colourType === 6, `colour type ${colourType} is RGB or RGBA`);
  const channels = colourType === 6 ? 4 : 3;
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, (stride + 1) * height, 'image data length');
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      const left = x >= channels ? rows[y * stride + x - channels]! : 0;
      const up = y > 0 ? rows[(y - 1) * stride + x]! : 0;
      const upLeft = y > 0 && x >= channels ? rows[(y - 1) * stride + x - channels]! : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      assert.ok(predictor !== undefined, `filter type ${filter}`);
      rows[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(rows.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? rows[i * 4 + 3]! : 255;
  }
  return { width, height, colourType, rgba };
}

describe('Teams app package', function () {
  this.timeout(30_000);
  let dir: string;
  let outFile: string;
  let files: Map<string, Buffer>;
  let manifest: Manifest;
  let warnings: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'supportbot-manifest-'));
    outFile = join(dir, 'out', 'supportbot.zip');
    const built = await buildAppPackage({ env: COMPLETE, outFile });
    assert.equal(built.file, outFile);
    warnings = built.warnings;
    files = unzip(readFileSync(outFile));
    manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest;
    assert.deepEqual(manifest, built.manifest, 'the returned manifest is the one in the zip');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('holds manifest.json, color.png and outline.png at its root, and nothing else', () => {
    assert.deepEqual([...files.keys()].sort(), ['color.png', 'manifest.json', 'outline.png']);
    assert.deepEqual(manifest.icons, { color: 'color.png', outline: 'outline.png' });
  });

  it('has a manifest.json that is valid against the Teams manifest schema 1.29', () => {
    const schema = JSON.parse(readFileSync(projectPath('manifest', 'schema', 'MicrosoftTeams.v1.29.schema.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strictTypes: false, unicodeRegExp: false, formats: { uri: /^https?:\/\/\S+$/ } });
    const validate = ajv.compile(schema);
    assert.ok(validate(manifest), JSON.stringify(validate.errors, null, 2));
    const text = files.get('manifest.json')!.toString('utf8');
    assert.doesNotMatch(text, /\$\{\{/, 'no placeholder left');
  });

  it('takes every value from a complete environment and warns about nothing', () => {
    assert.deepEqual(warnings, []);
    assert.equal(manifest.id, TEAMS_APP_ID);
    assert.equal(manifest.version, '1.4.2');
    assert.deepEqual(manifest.developer, {
      name: 'Contoso IT',
      websiteUrl: 'https://it.contoso.com',
      privacyUrl: 'https://it.contoso.com/privacy',
      termsOfUseUrl: 'https://it.contoso.com/terms',
    });
  });

  it('names the bot, its domain and the SSO resource', () => {
    assert.equal(manifest.bots.length, 1);
    assert.equal(manifest.bots[0]!.botId, BOT_ID);
    assert.deepEqual(manifest.bots[0]!.scopes, ['personal', 'team', 'groupChat']);
    assert.deepEqual(manifest.validDomains, ['supportbot.contoso.com']);
    assert.deepEqual(manifest.webApplicationInfo, { id: BOT_ID, resource: `api://supportbot.contoso.com/${BOT_ID}` });
    assert.deepEqual(
      manifest.staticTabs.map((t) => [t.entityId, t.contentUrl, t.scopes]),
      [['dashboard', 'https://supportbot.contoso.com/tab/', ['personal']]],
    );
    assert.deepEqual(
      manifest.configurableTabs.map((t) => [t.configurationUrl, t.scopes]),
      [['https://supportbot.contoso.com/tab/configure', ['team', 'groupChat']]],
    );
  });

  it('lists, per scope, the chat commands the registry gives for that scope', () => {
    const scopes: Scope[] = ['personal', 'team', 'groupChat'];
    const expected = scopes.map((scope) => ({
      scopes: [scope],
      commands: CHAT_COMMANDS.filter((c) => c.scopes.includes(scope)).map((c) => ({ title: c.name, description: c.description })),
    }));
    assert.deepEqual(manifest.bots[0]!.commandLists, expected);
    for (const list of manifest.bots[0]!.commandLists) {
      assert.ok(list.commands.length <= 10, `${list.scopes[0]}: ${list.commands.length} commands`);
      for (const c of list.commands) {
        assert.ok(c.title.length <= 32, c.title);
        assert.ok((c.description ?? '').length <= 128, c.title);
      }
    }
  });

  it('has a 192×192 colour icon with more than two colours', () => {
    const png = decodePng(files.get('color.png')!);
    assert.deepEqual([png.width, png.height], [192, 192]);
    const colours = new Set<number>();
    for (let i = 0; i < png.rgba.length; i += 4) colours.add((png.rgba[i]! << 16) | (png.rgba[i + 1]! << 8) | png.rgba[i + 2]!);
    assert.ok(colours.size > 2, `${colours.size} colours`);
  });

  it('has a 32×32 outline icon with alpha whose every pixel is transparent or opaque white', () => {
    const png = decodePng(files.get('outline.png')!);
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.equal(png.colourType, 6, 'RGBA');
    let white = 0;
    let transparent = 0;
    for (let i = 0; i < png.rgba.length; i += 4) {
      const [r, g, b, a] = png.rgba.subarray(i, i + 4);
      if (a === 0) transparent++;
      else if (a === 255 && r === 255 && g === 255 && b === 255) white++;
      else assert.fail(`pixel ${i / 4} (x ${(i / 4) % 32}, y ${Math.floor(i / 4 / 32)}) is rgba(${r}, ${g}, ${b}, ${a})`);
    }
    // a symbol, not an empty or a solid square
    assert.ok(white > 100 && transparent > 100, `${white} white, ${transparent} transparent pixels`);
  });

  it('packs the icons committed in manifest/, which are what scripts/make-icons.ts draws', () => {
    for (const [name, image] of [
      ['color.png', colorIcon()],
      ['outline.png', outlineIcon()],
    ] as const) {
      const committed = readFileSync(projectPath('manifest', name));
      assert.ok(files.get(name)!.equals(committed), `${name} in the zip is manifest/${name}`);
      assert.ok(encodePng(image).equals(committed), `manifest/${name} is out of date: run npx ts-node scripts/make-icons.ts`);
    }
  });

  it('writes the same bytes for the same environment', async () => {
    const again = join(dir, 'again.zip');
    await buildAppPackage({ env: COMPLETE, outFile: again });
    assert.ok(readFileSync(again).equals(readFileSync(outFile)));
  });

  it('fills defaults from MicrosoftAppId, BOT_DOMAIN and package.json, and warns about the privacy and terms links', async () => {
    const built = await buildAppPackage({
      env: { MicrosoftAppId: BOT_ID, BOT_DOMAIN: 'SupportBot.Contoso.com', TEAMS_APP_ID: '', TAB_BASE_URL: '  ' },
      outFile: join(dir, 'defaults.zip'),
    });
    const m = built.manifest as Manifest;
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string };
    assert.equal(m.id, BOT_ID, 'the Teams app id defaults to the bot id');
    assert.equal(m.version, pkg.version);
    assert.deepEqual(m.validDomains, ['supportbot.contoso.com']);
    assert.equal(m.staticTabs[0]!.contentUrl, 'https://supportbot.contoso.com/tab/');
    assert.equal(m.developer.privacyUrl, 'https://supportbot.contoso.com/privacy');
    assert.deepEqual(
      built.warnings.map((w) => w.split(':')[0]),
      ['PRIVACY_URL', 'TERMS_URL'],
    );
  });

  it('allows the tab on another host, adding it to validDomains with a warning', async () => {
    const built = await buildAppPackage({
      env: { ...COMPLETE, TAB_BASE_URL: 'https://tabs.contoso.com:8443/supportbot/' },
      outFile: join(dir, 'tab-host.zip'),
    });
    const m = built.manifest as Manifest;
    assert.deepEqual(m.validDomains, ['supportbot.contoso.com', 'tabs.contoso.com']);
    assert.equal(m.staticTabs[0]!.contentUrl, 'https://tabs.contoso.com:8443/supportbot/tab/');
    assert.match(built.warnings.join('\n'), /TAB_BASE_URL/);
  });

  const refusals: [string, Record<string, string | undefined>, RegExp][] = [
    ['MicrosoftAppId missing', { MicrosoftAppId: undefined }, /MicrosoftAppId: required/],
    ['MicrosoftAppId empty', { MicrosoftAppId: '' }, /MicrosoftAppId: required/],
    ['MicrosoftAppId not a GUID', { MicrosoftAppId: 'supportbot' }, /MicrosoftAppId: 'supportbot' is not a GUID/],
    ['BOT_DOMAIN missing', { BOT_DOMAIN: undefined }, /BOT_DOMAIN: required/],
    ['BOT_DOMAIN with a scheme', { BOT_DOMAIN: 'https://supportbot.contoso.com' }, /BOT_DOMAIN: .*without a scheme/],
    ['BOT_DOMAIN with a path', { BOT_DOMAIN: 'supportbot.contoso.com/api/messages' }, /BOT_DOMAIN: .*host name only/],
    ['BOT_DOMAIN with a port', { BOT_DOMAIN: 'supportbot.contoso.com:3978' }, /BOT_DOMAIN: .*host name only/],
    ['BOT_DOMAIN not a host name', { BOT_DOMAIN: 'support_bot.contoso.com' }, /BOT_DOMAIN: .*not a valid host name/],
    ['TEAMS_APP_ID not a GUID', { TEAMS_APP_ID: '42' }, /TEAMS_APP_ID: '42' is not a GUID/],
    ['TAB_BASE_URL over http', { TAB_BASE_URL: 'http://supportbot.contoso.com' }, /TAB_BASE_URL: .*https/],
    ['APP_VERSION not major.minor.patch', { APP_VERSION: '1.4' }, /APP_VERSION: '1.4'/],
    ['DEVELOPER_NAME too long', { DEVELOPER_NAME: 'x'.repeat(33) }, /DEVELOPER_NAME: .*32 characters/],
    ['PRIVACY_URL not a URL', { PRIVACY_URL: 'privacy.html' }, /PRIVACY_URL: 'privacy.html' is not an http\(s\) URL/],
  ];
  for (const [what, change, message] of refusals) {
    it(`refuses ${what}, naming the variable, and writes nothing`, async () => {
      const file = join(dir, 'refused.zip');
      await assert.rejects(buildAppPackage({ env: { ...COMPLETE, ...change }, outFile: file }), (error: unknown) => {
        assert.ok(error instanceof AppPackageError);
        assert.match(error.message, message);
        return true;
      });
      assert.equal(existsSync(file), false);
    });
  }

  it('lists every problem at once', async () => {
    await assert.rejects(buildAppPackage({ env: {}, outFile: join(dir, 'refused.zip') }), (error: unknown) => {
      assert.ok(error instanceof AppPackageError);
      assert.deepEqual(
        error.problems.map((p) => p.split(':')[0]),
        ['MicrosoftAppId', 'BOT_DOMAIN'],
      );
      return true;
    });
  });
});
