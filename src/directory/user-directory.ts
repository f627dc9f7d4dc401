import { readFileSync } from 'node:fs';

export const ROLES = ['user', 'supervisor', 'support'] as const;
export type Role = (typeof ROLES)[number];

/** Who someone is: their id in the application's logs, their Teams identity, role and supervisor. */
export interface Person {
  /** The application's user id as it appears in the logs (`user.id`). */
  userId: string;
  login: string;
  displayName: string;
  userPrincipalName: string;
  /** Microsoft Entra object id: how Teams identifies the person (`from.aadObjectId`). */
  aadObjectId: string;
  role: Role;
  supervisorId?: string;
}

export class DirectoryError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid user directory ${file}:\n  ${problems.join('\n  ')}`);
  }
}

const COLUMNS = ['userId', 'login', 'displayName', 'userPrincipalName', 'aadObjectId', 'role', 'supervisorId'] as const;

/** Splits one CSV line (RFC 4180 quoting). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

const fold = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * The user directory: a CSV file shaped like samples/contoso/directory/users.csv
 * (userId, login, displayName, userPrincipalName, aadObjectId, role, supervisorId).
 */
export class UserDirectory {
  private readonly byId = new Map<string, Person>();
  private readonly byLoginKey = new Map<string, Person>();
  private readonly byName = new Map<string, Person[]>();
  private readonly byAad = new Map<string, Person>();
  private readonly byUpnKey = new Map<string, Person>();

  constructor(readonly people: Person[]) {
    for (const p of people) {
      this.byId.set(p.userId, p);
      this.byLoginKey.set(fold(p.login), p);
      const key = fold(p.displayName);
      this.byName.set(key, [...(this.byName.get(key) ?? []), p]);
      if (p.aadObjectId) this.byAad.set(p.aadObjectId.toLowerCase(), p);
      if (p.userPrincipalName) this.byUpnKey.set(fold(p.userPrincipalName), p);
    }
  }

  byUserId(userId: string): Person | undefined {
    return this.byId.get(userId);
  }

  byLogin(login: string): Person | undefined {
    return this.byLoginKey.get(fold(login));
  }

  /** Everyone with this display name (case and spacing ignored): more than one means ambiguous. */
  byDisplayName(name: string): Person[] {
    return this.byName.get(fold(name)) ?? [];
  }

  byAadObjectId(id: string): Person | undefined {
    return this.byAad.get(id.toLowerCase());
  }

  byUserPrincipalName(upn: string): Person | undefined {
    return this.byUpnKey.get(fold(upn));
  }

  supervisorOf(userId: string): Person | undefined {
    const supervisorId = this.byId.get(userId)?.supervisorId;
    return supervisorId ? this.byId.get(supervisorId) : undefined;
  }

  /** Every display name, for recognising names in a question. */
  displayNames(): string[] {
    return [...new Set(this.people.map((p) => p.displayName))];
  }
}

export function parseUserDirectory(text: string, file = '<inline>'): UserDirectory {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsv(lines[0] ?? '');
  const missing = COLUMNS.filter((c) => c !== 'supervisorId' && !header.includes(c));
  if (missing.length) throw new DirectoryError(file, [`line 1: missing column(s) ${missing.join(', ')}`]);
  const index = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;
  const problems: string[] = [];
  const people: Person[] = [];
  const seen = new Map<string, number>();
  lines.slice(1).forEach((line, i) => {
    const lineNo = i + 2;
    if (line.trim() === '') return;
    const cells = splitCsv(line);
    const get = (c: (typeof COLUMNS)[number]) => (index[c] >= 0 ? (cells[index[c]] ?? '') : '');
    const userId = get('userId');
    const role = get('role');
    if (!userId) problems.push(`line ${lineNo}: userId is empty`);
    else if (seen.has(userId)) problems.push(`line ${lineNo}: userId ${userId} already on line ${seen.get(userId)}`);
    if (!(ROLES as readonly string[]).includes(role)) problems.push(`line ${lineNo}: role '${role}' is not one of ${ROLES.join(', ')}`);
    seen.set(userId, lineNo);
    const person: Person = {
      userId,
      login: get('login'),
      displayName: get('displayName') || get('login') || userId,
      userPrincipalName: get('userPrincipalName'),
      aadObjectId: get('aadObjectId'),
      role: role as Role,
    };
    const supervisorId = get('supervisorId');
    if (supervisorId) person.supervisorId = supervisorId;
    people.push(person);
  });
  for (const p of people) {
    if (p.supervisorId && !seen.has(p.supervisorId)) problems.push(`user ${p.userId}: supervisor ${p.supervisorId} is not in the directory`);
  }
  if (problems.length) throw new DirectoryError(file, problems.slice(0, 50));
  return new UserDirectory(people);
}

export function loadUserDirectory(file: string): UserDirectory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DirectoryError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseUserDirectory(text, file);
}
