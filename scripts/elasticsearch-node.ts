/**
 * Starts a real, throwaway Elasticsearch node for tests and benchmarks: the official test
 * distribution (`org.elasticsearch.distribution.integ-test-zip`) from Maven Central, cached outside
 * the repository, run as an unprivileged user, bound to 127.0.0.1, with a small heap, security on
 * (a file-realm user, so the client's basic auth is exercised) and nothing that reaches the internet.
 *
 *   node dist/scripts/elasticsearch-node.js      # prints ELASTICSEARCH_URL=… and runs until Ctrl-C
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Server version: same major as the @elastic/elasticsearch client (package.json pins 9.4.3). */
export const ELASTICSEARCH_VERSION = '9.4.3';
const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`;
const ES_USER = 'supportbot-es';
const MIN_JAVA = 21;

export class ElasticsearchUnavailable extends Error {}

export interface RunningNode {
  url: string;
  username: string;
  password: string;
  /** Environment variables that point the product at this node. */
  env: Record<string, string>;
  /** Stops the node (SIGTERM, then SIGKILL after 20 s). */
  stop(): Promise<void>;
  /** Pauses the node process (SIGSTOP): it stops answering without closing connections. */
  pause(): void;
  resume(): void;
  /** Stops it and starts it again on the same port and data (for outage tests). */
  restart(): Promise<void>;
  /** Stops the process but keeps its data (an outage); `boot()` starts it again on the same port. */
  halt(): Promise<void>;
  boot(): Promise<void>;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function cacheDir(): string {
  if (process.env.SUPPORTBOT_CACHE_DIR) return process.env.SUPPORTBOT_CACHE_DIR;
  // As root the node runs as another user, who cannot enter /root: cache where it can read.
  return isRoot() ? '/var/cache/supportbot' : join(homedir(), '.cache', 'supportbot');
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function javaMajor(javaHome: string): number | undefined {
  const java = join(javaHome, 'bin', 'java');
  if (!existsSync(java)) return undefined;
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

/** A JDK Elasticsearch 9 accepts: ES_JAVA_HOME, JAVA_HOME, or the newest under /usr/lib/jvm. */
export function findJava(): string {
  const candidates = [process.env.ES_JAVA_HOME, process.env.JAVA_HOME].filter((x): x is string => !!x);
  if (existsSync('/usr/lib/jvm')) {
    for (const name of readdirSync('/usr/lib/jvm').sort().reverse()) candidates.push(join('/usr/lib/jvm', name));
  }
  let best: { home: string; major: number } | undefined;
  for (const home of candidates) {
    const major = javaMajor(home);
    if (major !== undefined && major >= MIN_JAVA && (!best || major > best.major)) best = { home, major };
  }
  if (!best) {
    throw new ElasticsearchUnavailable(
      `Cannot start the test Elasticsearch: no Java ${MIN_JAVA} or newer found (looked at ES_JAVA_HOME, JAVA_HOME, /usr/lib/jvm). ` +
        `Install a JDK ${MIN_JAVA}+ (e.g. temurin-25) or set ELASTICSEARCH_URL to a running Elasticsearch ${ELASTICSEARCH_VERSION.split('.')[0]}.x.`,
    );
  }
  return best.home;
}

/** Downloads (once) and unpacks the test distribution; returns its home directory. */
export function ensureDistribution(log: (s: string) => void = () => {}): string {
  const dir = cacheDir();
  const home = join(dir, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  if (existsSync(join(home, 'bin', 'elasticsearch'))) return home;
  mkdirSync(dir, { recursive: true });
  const zip = join(dir, `elasticsearch-${ELASTICSEARCH_VERSION}.zip`);
  if (!existsSync(zip)) {
    if (!which('mvn')) {
      throw new ElasticsearchUnavailable(
        'Cannot start the test Elasticsearch: Maven (mvn) is not installed; it fetches the test distribution ' +
          `${ARTIFACT} from Maven Central. Install Maven, put the zip at ${zip}, or set ELASTICSEARCH_URL.`,
      );
    }
    log(`Downloading ${ARTIFACT} with Maven …`);
    const r = spawnSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dir}`], {
      encoding: 'utf8',
      cwd: dir,
    });
    if (r.status !== 0 || !existsSync(zip)) {
      throw new ElasticsearchUnavailable(
        `Cannot start the test Elasticsearch: Maven could not fetch ${ARTIFACT}:\n${(r.stdout + r.stderr).slice(-2000)}`,
      );
    }
  }
  const staging = mkdtempSync(join(dir, 'unpack-'));
  try {
    if (which('unzip')) execFileSync('unzip', ['-q', zip, '-d', staging]);
    else execFileSync('python3', ['-m', 'zipfile', '-e', zip, staging]);
    const unpacked = join(staging, `elasticsearch-${ELASTICSEARCH_VERSION}`);
    for (const f of readdirSync(join(unpacked, 'bin'))) chmodSync(join(unpacked, 'bin', f), 0o755);
    if (!existsSync(home)) renameSync(unpacked, home);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (isRoot()) execFileSync('chmod', ['-R', 'a+rX', dir]);
  return home;
}

function ensureUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const id = () => spawnSync('id', ['-u', ES_USER], { encoding: 'utf8' });
  let r = id();
  if (r.status !== 0) {
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_USER], { encoding: 'utf8' });
    if (add.status !== 0 && !/already exists/.test(add.stderr)) {
      throw new ElasticsearchUnavailable(`Cannot create the unprivileged user ${ES_USER} for Elasticsearch: ${add.stderr}`);
    }
    r = id();
  }
  const uid = Number(r.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', ES_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), owner);
}

async function waitForHealth(url: string, auth: string, child: ChildProcess, logFile: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) throw new ElasticsearchUnavailable(`Elasticsearch exited with ${exited} while starting:\n${logFile()}`);
    try {
      const r = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { headers: { authorization: auth } });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ElasticsearchUnavailable(`Elasticsearch did not become healthy within ${timeoutMs / 1000} s:\n${logFile()}`);
}

export async function startElasticsearch(log: (s: string) => void = () => {}): Promise<RunningNode> {
  const javaHome = findJava();
  const home = ensureDistribution(log);
  const owner = ensureUser();
  const work = mkdtempSync(join(tmpdir(), 'supportbot-es-'));
  const conf = join(work, 'config');
  cpSync(join(home, 'config'), conf, { recursive: true });
  mkdirSync(join(work, 'data'));
  mkdirSync(join(work, 'logs'));
  mkdirSync(join(work, 'tmp'));
  const username = 'supportbot';
  const password = randomBytes(12).toString('hex');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ES_JAVA_HOME: javaHome,
    ES_PATH_CONF: conf,
    ES_TMPDIR: join(work, 'tmp'),
    ES_JAVA_OPTS: process.env.SUPPORTBOT_ES_HEAP ? `-Xms${process.env.SUPPORTBOT_ES_HEAP} -Xmx${process.env.SUPPORTBOT_ES_HEAP}` : '-Xms512m -Xmx512m',
    HOME: work,
  };
  const users = spawnSync(join(home, 'bin', 'elasticsearch-users'), ['useradd', username, '-p', password, '-r', 'superuser'], {
    env,
    encoding: 'utf8',
  });
  if (users.status !== 0) throw new ElasticsearchUnavailable(`Cannot add the test user: ${users.stderr || users.stdout}`);
  if (owner) chownTree(work, owner);
  if (owner) chmodSync(work, 0o755);

  const httpPort = await freePort();
  const transportPort = await freePort();
  const settings = [
    'discovery.type=single-node',
    'network.host=127.0.0.1',
    `http.port=${httpPort}`,
    `transport.port=${transportPort}`,
    `path.data=${join(work, 'data')}`,
    `path.logs=${join(work, 'logs')}`,
    'xpack.security.enabled=true',
    'xpack.security.http.ssl.enabled=false',
    'xpack.security.transport.ssl.enabled=false',
    'cluster.routing.allocation.disk.threshold_enabled=false',
    'action.destructive_requires_name=false',
    'cluster.name=supportbot-test',
  ];
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const logFile = () => {
    const f = join(work, 'logs', 'supportbot-test.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-40).join('\n') : '(no log written)';
  };

  let child: ChildProcess;
  const launch = async () => {
    child = spawn(join(home, 'bin', 'elasticsearch'), settings.flatMap((s) => ['-E', s]), {
      env,
      cwd: work,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      ...(owner ?? {}),
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    log(`Starting Elasticsearch ${ELASTICSEARCH_VERSION} on ${url} (Java: ${javaHome}) …`);
    await waitForHealth(url, auth, child, () => `${logFile()}\n${stderr}`, 180_000);
  };
  const kill = async () => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    try {
      process.kill(-c.pid!, 'SIGCONT');
      process.kill(-c.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  log(`Elasticsearch is up: ${url}`);
  return {
    url,
    username,
    password,
    env: { ELASTICSEARCH_URL: url, ELASTICSEARCH_USERNAME: username, ELASTICSEARCH_PASSWORD: password },
    pause: () => process.kill(-child!.pid!, 'SIGSTOP'),
    resume: () => process.kill(-child!.pid!, 'SIGCONT'),
    restart: async () => {
      await kill();
      await launch();
    },
    halt: kill,
    boot: launch,
    stop: async () => {
      await kill();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  startElasticsearch((s) => process.stderr.write(s + '\n')).then(
    (node) => {
      process.stdout.write(Object.entries(node.env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
      const stop = () => void node.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
