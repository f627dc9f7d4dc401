import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Where the bot keeps what it must not forget across restarts: conversation references (the
 * foundation of proactive messages), and later alert checkpoints, the outbox, incidents and their
 * audit trail. One SQLite file next to the data (`SUPPORTBOT_DATA_DIR/state.db`).
 */

/** A conversation the bot can write into without being asked (Bot Framework ConversationReference, as JSON). */
export interface ConversationRecord {
  conversationId: string;
  kind: 'personal' | 'groupChat' | 'channel';
  /** The full ConversationReference to continue the conversation with. */
  reference: Record<string, unknown>;
  /** For a personal chat: the user's Microsoft Entra object id. */
  aadObjectId?: string;
  tenantId?: string;
  teamId?: string;
  /** Epoch milliseconds of the last save. */
  updatedAt: number;
}

export interface ConversationStore {
  saveConversation(record: ConversationRecord): void;
  removeConversation(conversationId: string): boolean;
  conversation(conversationId: string): ConversationRecord | undefined;
  /** The personal chat with this user, if the app is installed for them. */
  personalConversation(aadObjectId: string): ConversationRecord | undefined;
  conversations(): ConversationRecord[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS conversations (
  conversation_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  reference TEXT NOT NULL,
  aad_object_id TEXT,
  tenant_id TEXT,
  team_id TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations (aad_object_id, kind);
`;

type Row = Record<string, string | number | null>;

function toRecord(row: Row): ConversationRecord {
  const record: ConversationRecord = {
    conversationId: row.conversation_id as string,
    kind: row.kind as ConversationRecord['kind'],
    reference: JSON.parse(row.reference as string) as Record<string, unknown>,
    updatedAt: row.updated_at as number,
  };
  if (row.aad_object_id) record.aadObjectId = row.aad_object_id as string;
  if (row.tenant_id) record.tenantId = row.tenant_id as string;
  if (row.team_id) record.teamId = row.team_id as string;
  return record;
}

/** The embedded state store. Later issues add their tables here (schema created idempotently). */
export class SqliteStateStore implements ConversationStore {
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  saveConversation(r: ConversationRecord): void {
    this.db
      .prepare(
        `INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(conversation_id) DO UPDATE SET kind = excluded.kind, reference = excluded.reference,
           aad_object_id = excluded.aad_object_id, tenant_id = excluded.tenant_id, team_id = excluded.team_id, updated_at = excluded.updated_at`,
      )
      .run(r.conversationId, r.kind, JSON.stringify(r.reference), r.aadObjectId?.toLowerCase() ?? null, r.tenantId ?? null, r.teamId ?? null, r.updatedAt);
  }

  removeConversation(conversationId: string): boolean {
    return this.db.prepare('DELETE FROM conversations WHERE conversation_id = ?').run(conversationId).changes > 0;
  }

  conversation(conversationId: string): ConversationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM conversations WHERE conversation_id = ?').get(conversationId) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  personalConversation(aadObjectId: string): ConversationRecord | undefined {
    const row = this.db
      .prepare("SELECT * FROM conversations WHERE aad_object_id = ? AND kind = 'personal' ORDER BY updated_at DESC LIMIT 1")
      .get(aadObjectId.toLowerCase()) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  conversations(): ConversationRecord[] {
    return (this.db.prepare('SELECT * FROM conversations ORDER BY updated_at').all() as Row[]).map(toRecord);
  }

  close(): void {
    this.db.close();
  }
}
