import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../src/paths';

/** One event of test/fixtures/contoso/truth/events.jsonl: the normalized form ingest must reproduce. */
export interface TruthEvent {
  source: string;
  time: string;
  node: string;
  kind: 'api' | 'auth';
  level: string;
  logger: string;
  message: string;
  userId?: number;
  login?: string;
  method?: string;
  path?: string;
  status?: number;
  clientIp?: string;
  documentId?: number;
  documentType?: string;
  entityId?: number;
  params?: string;
  exception?: string;
  scenario: string | null;
}

export const SAMPLE_LOGS = projectPath('samples', 'contoso', 'logs');
export const SAMPLE_DIRECTORY = projectPath('samples', 'contoso', 'directory', 'users.csv');
export const TRUTH_DIR = projectPath('test', 'fixtures', 'contoso', 'truth');

let cached: TruthEvent[] | undefined;

export function truthEvents(): TruthEvent[] {
  cached ??= readFileSync(join(TRUTH_DIR, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TruthEvent);
  return cached;
}

/** The provenance ingest gives when the `logs/` folder itself is ingested. */
export function truthSource(e: TruthEvent): string {
  return e.source.replace(/^logs\//, '');
}

export interface Scenarios {
  release: string;
  scenarios: {
    'ack-missing': { repeaters: number[]; oneOff: number[] };
    'forbidden-edit': { affected: { userId: number; supervisorId: number; documentId: number; first: string }[] };
    'password-special-chars': { affected: number[] };
    'web-proxy': { affected: number[] };
  };
}

export function truthScenarios(): Scenarios {
  return JSON.parse(readFileSync(join(TRUTH_DIR, 'scenarios.json'), 'utf8')) as Scenarios;
}
