// The peer's flows under the same load as the service's (bench/ours.ts):
// sign-in (vs POST /auth/token), change-password (vs PUT
// /users/current/password), reset-password with a fresh token per request
// (vs POST /auth/reset), and two more for context: request-password-reset
// (vs POST /users/:sid/password/reset: a reset token made and stored) and
// get-session (vs GET /users/current).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Connection, type LoadResult, expectClean, load, perConnection } from '../lib/load.js';
import { freePort, startChild } from '../../test/kit/processes.js';
import { mapLimit } from '../../test/kit/concurrency.js';
import { PASSWORD_A, PASSWORD_B, PASSWORD_C, type Settings } from '../ours.js';

export interface PeerResults {
  signIn: LoadResult;
  getSession: LoadResult;
  requestReset: LoadResult;
  changePassword: LoadResult;
  resetPassword: LoadResult;
}

const API = '/api/auth';

/** The session cookie from a Set-Cookie header, as a Cookie header value. */
function sessionCookie(setCookie: string | string[] | null | undefined): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? setCookie.split(/,(?=\s*[\w.-]+=)/) : [];
  const pairs = all.map((cookie) => cookie.trim().split(';')[0] ?? '').filter((pair) => /^(__Secure-)?better-auth\.session_token=./.test(pair));
  return pairs.length > 0 ? pairs.join('; ') : undefined;
}

export async function runPeerFlows(settings: Settings, log: (line: string) => void): Promise<PeerResults> {
  const { hashConnections: hc, fastConnections: fc, seconds, warmupSeconds } = settings;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-bench-peer-'));
  const port = await freePort();
  const child = await startChild(['bench/peer/server.ts', String(port), dataDir], { port, readyPath: '/bench/ready' });
  const url = child.url;
  const json = { 'content-type': 'application/json', origin: url };
  const post = async (route: string, body: unknown, cookie?: string) => {
    const response = await fetch(`${url}${API}${route}`, { method: 'POST', headers: { ...json, ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) });
    return { status: response.status, text: await response.text(), cookie: sessionCookie(response.headers.getSetCookie()) };
  };
  const expectOk = async (route: string, body: unknown, cookie?: string) => {
    const response = await post(route, body, cookie);
    if (response.status !== 200) throw new Error(`peer ${route}: ${response.status} ${response.text}`);
    return response;
  };
  const drainResetTokens = async () => (await (await fetch(`${url}/bench/reset-tokens`)).json()) as { email: string; token: string }[];

  try {
    const emails = Array.from({ length: Math.max(hc, fc) }, (_, i) => `bench-${i}@example.com`);
    await mapLimit(emails, 4, (email) => expectOk('/sign-up/email', { email, password: PASSWORD_A, name: email }));

    log('  peer: sign-in');
    const signInOptions = {
      url,
      connections: hc,
      ...perConnection((i): Connection => {
        const body = JSON.stringify({ email: emails[i % emails.length], password: PASSWORD_A });
        return { next: () => ({ method: 'POST', path: `${API}/sign-in/email`, headers: json, body }) };
      }),
    };
    await load({ ...signInOptions, duration: warmupSeconds });
    const signIn = expectClean('peer sign-in', await load({ ...signInOptions, duration: seconds }));

    log('  peer: get-session');
    const cookies = await mapLimit(emails, 4, async (email) => (await expectOk('/sign-in/email', { email, password: PASSWORD_A })).cookie as string);
    const sessionOptions = {
      url,
      connections: fc,
      ...perConnection((i): Connection => {
        const headers = { cookie: cookies[i % cookies.length]!, origin: url };
        return { next: () => ({ method: 'GET', path: `${API}/get-session`, headers }) };
      }),
    };
    await load({ ...sessionOptions, duration: warmupSeconds });
    const getSession = expectClean('peer get-session', await load({ ...sessionOptions, duration: seconds }));

    log('  peer: request-password-reset');
    const requestOptions = {
      url,
      connections: fc,
      ...perConnection((i): Connection => {
        let n = i;
        return { next: () => ({ method: 'POST', path: `${API}/request-password-reset`, headers: json, body: JSON.stringify({ email: emails[n++ % emails.length] }) }) };
      }),
    };
    await load({ ...requestOptions, duration: warmupSeconds });
    const requestReset = expectClean('peer request-password-reset', await load({ ...requestOptions, duration: seconds }));
    await drainResetTokens();

    log('  peer: change-password');
    const changeState = await mapLimit(emails.slice(0, hc), 4, async (email) => ({
      email,
      current: PASSWORD_A,
      next: PASSWORD_B,
      cookie: (await expectOk('/sign-in/email', { email, password: PASSWORD_A })).cookie as string,
    }));
    const changeOptions = {
      url,
      connections: hc,
      ...perConnection((i): Connection => {
        const state = changeState[i % hc]!;
        return {
          next: () => ({
            method: 'POST',
            path: `${API}/change-password`,
            headers: { ...json, cookie: state.cookie },
            // Like the service, which revokes the user's other login tokens.
            body: JSON.stringify({ currentPassword: state.current, newPassword: state.next, revokeOtherSessions: true }),
          }),
          answered(status, _body, headers) {
            if (status !== 200) return;
            [state.current, state.next] = [state.next, state.current];
            state.cookie = sessionCookie(headers['set-cookie']) ?? state.cookie;
          },
        };
      }),
    };
    await load({ ...changeOptions, duration: warmupSeconds });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Resynchronise with the changes in flight when the warm-up stopped (their new sessions were never seen).
    await mapLimit(changeState, 4, async (state) => {
      let response = await post('/sign-in/email', { email: state.email, password: state.current });
      if (response.status !== 200) {
        [state.current, state.next] = [state.next, state.current];
        response = await expectOk('/sign-in/email', { email: state.email, password: state.current });
      }
      state.cookie = response.cookie as string;
    });
    const changePassword = expectClean('peer change-password', await load({ ...changeOptions, duration: seconds }));

    log('  peer: reset-password');
    const warmupCount = Math.max(hc, Math.round(settings.rawHashRate * warmupSeconds));
    const measuredCount = Math.max(hc * 4, Math.round(settings.rawHashRate * seconds));
    const resetEmails = Array.from({ length: warmupCount + measuredCount + hc * 2 }, (_, i) => `bench-r${i}@example.com`);
    const seeded = await fetch(`${url}/bench/seed`, { method: 'POST', body: JSON.stringify({ emails: resetEmails, password: PASSWORD_A }) });
    if (!seeded.ok) throw new Error(`peer seed: ${seeded.status} ${await seeded.text()}`);
    await mapLimit(resetEmails, fc, (email) => expectOk('/request-password-reset', { email }));
    const resetTokens = (await drainResetTokens()).map((entry) => entry.token);
    const resetOptions = {
      url,
      connections: hc,
      ...perConnection((): Connection => ({
        next: () => {
          const token = resetTokens.shift();
          if (!token) throw new Error('the peer reset-token pool ran out');
          return { method: 'POST', path: `${API}/reset-password`, headers: json, body: JSON.stringify({ token, newPassword: PASSWORD_C }) };
        },
      })),
    };
    await load({ ...resetOptions, amount: warmupCount });
    const resetPassword = expectClean('peer reset-password', await load({ ...resetOptions, amount: measuredCount }));

    return { signIn, getSession, requestReset, changePassword, resetPassword };
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
