import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/elasticsearch-node';
import { projectPath } from '../../src/paths';
import { tempDir } from './stores';

export interface LocalMode {
  /** The emulator's URL, as `npm start` prints it. */
  url: string;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts local mode as a person would (`npm start`, here from the TypeScript sources so the test
 * runs the code under test): the bot, the embedded store with the sample, the Teams emulator.
 */
export async function startLocalMode(options: { as?: string; env?: Record<string, string>; dataDir?: string } = {}): Promise<LocalMode> {
  const dir = options.dataDir ? undefined : tempDir('supportbot-local-');
  const dataDir = options.dataDir ?? dir!.path;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SUPPORTBOT_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    SUPPORTBOT_PLAYGROUND_PORT: String(await freePort()),
    SUPPORTBOT_LOG_LEVEL: 'info',
    ELASTICSEARCH_URL: '',
    ...options.env,
  };
  delete env.MicrosoftAppId;
  const args = ['--no-deprecation', '-r', 'ts-node/register/transpile-only', projectPath('bot', 'main.ts'), ...(options.as ? ['--as', options.as] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { env, cwd: projectPath(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode did not start within 90 s:\n${out.slice(-3000)}`)), 90_000);
    const check = () => {
      const m = /Open (http:\/\/\S+) in a browser/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
  return {
    url,
    dataDir,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      dir?.remove();
    },
  };
}

export const ARTIFACTS = projectPath('test-artifacts');
export const artifact = (name: string) => join(ARTIFACTS, name);
