import { runCli } from '../../src/cli';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

/** Runs `supportbot <args>` in-process with the given environment (nothing read from process.env). */
export async function cli(args: string[], env: Record<string, string | undefined>, cwd = process.cwd()): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s), env, cwd });
  const stdout = out.join('\n');
  return { code, stdout, stderr: err.join('\n'), json: <T>() => JSON.parse(stdout) as T };
}

/** The environment of a store under test: a data dir, and Elasticsearch settings when wanted. */
export function storeEnv(kind: 'sqlite' | 'elasticsearch', dataDir: string, index?: string): Record<string, string | undefined> {
  const base = { SUPPORTBOT_DATA_DIR: dataDir, SUPPORTBOT_TIME_ZONE: 'Europe/Berlin' };
  if (kind === 'sqlite') return base;
  return {
    ...base,
    ELASTICSEARCH_URL: process.env.ELASTICSEARCH_URL,
    ELASTICSEARCH_USERNAME: process.env.ELASTICSEARCH_USERNAME,
    ELASTICSEARCH_PASSWORD: process.env.ELASTICSEARCH_PASSWORD,
    ELASTICSEARCH_API_KEY: process.env.ELASTICSEARCH_API_KEY,
    ELASTICSEARCH_INDEX: index,
  };
}
