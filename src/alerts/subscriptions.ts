import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The channel subscriptions the bot keeps (read-only), so a replay shows the channel notices the
 * bot would send. Empty when the bot has never run here.
 */
export function subscriptionsOf(dataDir: string): { conversationId: string; ruleId: string }[] {
  const file = join(dataDir, 'state.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'subscriptions'").get();
    if (!table) return [];
    return (db.prepare('SELECT conversation_id, rule_id FROM subscriptions').all() as { conversation_id: string; rule_id: string }[]).map((r) => ({
      conversationId: r.conversation_id,
      ruleId: r.rule_id,
    }));
  } finally {
    db.close();
  }
}
