// Directory logins reuse their connections: a few idle connections per
// directory, each already connected (and TLS set up) and bound as the lookup
// account, so a login costs its search and its bind, not a new connection,
// StartTLS or TLS handshake and lookup bind each time.
//
// - A connection is taken by one login at a time, and given back when the
//   login ends (a wrong password too); a directory error closes it.
// - After a password was tried on it, it binds as the lookup account again
//   when next taken (a directory without a lookup account: it is closed).
// - One the directory closed (idle timeout, restart) is never reused: the
//   client would reconnect by itself, unbound and without StartTLS.
// - Connections idle for longer than IDLE_MS are closed; so is every idle one
//   when the service closes (closeIdleDirectoryConnections).
// - The pool is keyed by the directory's settings and lookup password, so a
//   changed directory never gets a connection opened with the old ones.
// Connection tests (withDirectory) always open a connection of their own.

import { createHash } from 'node:crypto';
import { DirectorySession, DirectoryUnavailable, type DirectoryAccess } from './ldap.js';

/** Idle connections kept per directory; more logins at once open more, closed when given back. */
const MAX_IDLE = 4;
/** Idle longer than this: closed rather than reused (directories drop idle connections too). */
const IDLE_MS = 30_000;

interface Idle {
  session: DirectorySession;
  since: number;
}

const idle = new Map<string, Idle[]>();
let opened = 0;

/** Connections opened for directory logins since the process started (the rbac_directory_connections_opened_total metric). */
export function directoryConnectionsOpened(): number {
  return opened;
}

/** Idle connections kept for reuse right now (the rbac_directory_idle_connections metric). */
export function idleDirectoryConnections(): number {
  let count = 0;
  for (const sessions of idle.values()) count += sessions.length;
  return count;
}

const poolKey = (access: DirectoryAccess) =>
  createHash('sha256')
    .update(JSON.stringify([access.settings, access.bindPassword]))
    .digest('base64url');

let sweep: NodeJS.Timeout | undefined;

function closeExpired(now: number): void {
  for (const [key, sessions] of idle) {
    const keep = sessions.filter((entry) => now - entry.since < IDLE_MS);
    for (const entry of sessions) if (!keep.includes(entry)) void entry.session.close();
    if (keep.length > 0) idle.set(key, keep);
    else idle.delete(key);
  }
  if (idle.size === 0 && sweep) {
    clearInterval(sweep);
    sweep = undefined;
  }
}

async function take(access: DirectoryAccess, key: string): Promise<DirectorySession> {
  const sessions = idle.get(key) ?? [];
  for (let entry = sessions.pop(); entry; entry = sessions.pop()) {
    if (Date.now() - entry.since < IDLE_MS && entry.session.reusable) {
      try {
        await entry.session.restoreLookupBinding();
        return entry.session;
      } catch {
        // Could not bind again: another connection.
      }
    }
    void entry.session.close();
  }
  opened++;
  return DirectorySession.open(access);
}

function giveBack(key: string, session: DirectorySession): void {
  const sessions = idle.get(key) ?? [];
  if (!session.reusable || sessions.length >= MAX_IDLE) {
    void session.close();
    return;
  }
  sessions.push({ session, since: Date.now() });
  idle.set(key, sessions);
  sweep ??= setInterval(() => closeExpired(Date.now()), IDLE_MS).unref();
}

/** Runs `work` on a pooled connection to the directory: taken from the idle ones or opened, given back when `work` ends, unless the directory failed. */
export async function withPooledDirectory<T>(access: DirectoryAccess, work: (session: DirectorySession) => Promise<T>): Promise<T> {
  const key = poolKey(access);
  const session = await take(access, key);
  try {
    const result = await work(session);
    giveBack(key, session);
    return result;
  } catch (error) {
    // A refused password or a database error leaves the connection as it was; a directory error may not.
    if (error instanceof DirectoryUnavailable) await session.close();
    else giveBack(key, session);
    throw error;
  }
}

/** Closes every idle connection (the service is closing). */
export async function closeIdleDirectoryConnections(): Promise<void> {
  const sessions = [...idle.values()].flat();
  idle.clear();
  if (sweep) clearInterval(sweep);
  sweep = undefined;
  await Promise.all(sessions.map((entry) => entry.session.close()));
}
