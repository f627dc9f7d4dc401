/**
 * Mocha global fixtures: a real Elasticsearch for every suite that needs one. When
 * ELASTICSEARCH_URL is given, that node is used; otherwise the official test distribution is
 * started (scripts/elasticsearch-node.ts) and stopped at the end. The Elasticsearch suites are
 * never skipped: if no node can be had, the run fails and says why (missing Java or Maven), unless
 * a developer opts out explicitly with SUPPORTBOT_SKIP_ELASTICSEARCH=1 (refused when CI is set).
 */
import { RunningNode, startElasticsearch } from '../../scripts/elasticsearch-node';

let node: RunningNode | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  process.env.TZ = process.env.TZ ?? 'UTC';
  if (process.env.ELASTICSEARCH_URL) return;
  if (process.env.SUPPORTBOT_SKIP_ELASTICSEARCH === '1') {
    if (process.env.CI) throw new Error('SUPPORTBOT_SKIP_ELASTICSEARCH is not allowed in CI: the Elasticsearch suites must run.');
    process.stderr.write('\n*** SUPPORTBOT_SKIP_ELASTICSEARCH=1: the Elasticsearch suites are SKIPPED. ***\n\n');
    return;
  }
  node = await startElasticsearch((s) => process.stderr.write(`  [elasticsearch] ${s}\n`));
  Object.assign(process.env, node.env);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await node?.stop();
}

/** The node the harness started, for tests that stop and restart it (outage tests). */
export function harnessNode(): RunningNode | undefined {
  return node;
}
