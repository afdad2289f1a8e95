// Account expiry (PE's account-expiry-days): local non-superusers who have
// not logged in for that many days — counted from their creation if they
// never did, and from their reinstatement if that came later — are revoked,
// their login tokens with them, and each is recorded once as
// `account-expired`, by no actor (the service itself). The service sweeps
// right after it starts and then every account-expiry-check-minutes;
// `rbac users expire-idle` runs one sweep. Several instances may sweep at
// once: the rule is one conditional UPDATE (`expireIdle` in
// src/store/users.ts), so each account is revoked, and recorded, once.

import { partyOf, recordEvents } from '../audit/audit.js';
import type { Config } from '../config/config.js';
import * as loginTokens from '../store/login-tokens.js';
import { inTransaction, type Db } from '../store/transaction.js';
import * as users from '../store/users.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Accounts revoked per transaction: keeps each transaction short and its statements far below the databases' parameter limits. */
const BATCH_SIZE = 500;

export interface AccountExpiryDeps {
  db: Db;
  config: Pick<Config, 'accountExpiryDays'>;
}

export interface ExpiredAccount {
  id: string;
  login: string;
}

/** Account expiry is off unless account-expiry-days is set. */
export function accountExpiryIsOn(config: Pick<Config, 'accountExpiryDays'>): config is { accountExpiryDays: number } {
  return config.accountExpiryDays !== undefined;
}

/**
 * One sweep at `now`: revokes every account idle for longer than
 * account-expiry-days (exactly that long is not longer), in batches, each
 * batch one transaction with its login-token revocations and audit events.
 * Unused reset tokens stay usable (docs/decisions.md). Returns the accounts
 * this sweep revoked; none when expiry is off.
 */
export async function expireIdleAccounts(
  deps: AccountExpiryDeps,
  now: Date,
  context: { sourceAddress: string | null } = { sourceAddress: null },
  batchSize = BATCH_SIZE,
): Promise<ExpiredAccount[]> {
  const { config } = deps;
  if (!accountExpiryIsOn(config)) return [];
  const at = now.getTime();
  const cutoff = new Date(at - config.accountExpiryDays * DAY_MS);
  const expired: ExpiredAccount[] = [];
  // Until a batch finds no one: every batch revokes at least one of a finite
  // set (a login, creation or reinstatement from now on is after the cutoff).
  for (;;) {
    const batch = await inTransaction(deps.db, async (trx) => {
      const revoked = await users.expireIdle(trx, { cutoff, limit: batchSize });
      await loginTokens.revokeAllOfUsers(
        trx,
        revoked.map((user) => user.id),
        at,
      );
      await recordEvents(
        trx,
        revoked.map((user) => ({
          type: 'account-expired' as const,
          actor: null,
          subject: partyOf(user),
          sourceAddress: context.sourceAddress,
          details: {
            idle_days: Math.floor((at - user.idle_since.getTime()) / DAY_MS),
            idle_since: user.idle_since.toISOString(),
            last_login: user.last_login?.toISOString() ?? null,
          },
        })),
        at,
      );
      return revoked;
    });
    if (batch.length === 0) return expired;
    expired.push(...batch.map(partyOf));
  }
}

/** What the schedule logs with: pino's Logger fits. */
export interface ExpiryLogger {
  info(facts: object, message: string): void;
  error(facts: object, message: string): void;
}

export interface AccountExpirySchedule {
  /** No sweep starts after this; resolves once a sweep in progress has ended. */
  stop(): Promise<void>;
}

/**
 * The service's sweeps: the first right after start, then one every
 * account-expiry-check-minutes after the previous one ended (so one
 * instance's sweeps never overlap). Undefined when expiry is off. The timer
 * never keeps the process alive. A failing sweep is logged and the next one
 * runs as planned; the service goes on.
 */
export function scheduleAccountExpiry(
  deps: AccountExpiryDeps & { config: Pick<Config, 'accountExpiryDays' | 'accountExpiryCheckMinutes'> },
  options: { logger: ExpiryLogger; now?: () => Date },
): AccountExpirySchedule | undefined {
  if (!accountExpiryIsOn(deps.config)) return undefined;
  const everyMs = deps.config.accountExpiryCheckMinutes * 60 * 1000;
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  let stopped = false;

  const sweep = async () => {
    try {
      const expired = await expireIdleAccounts(deps, now());
      options.logger.info({ expired: expired.length, accountExpiryDays: deps.config.accountExpiryDays }, 'account expiry sweep done');
    } catch (error) {
      options.logger.error({ err: error }, 'account expiry sweep failed; the next one runs as planned');
    }
  };
  const plan = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      sweeping = sweep().then(() => plan(everyMs));
    }, delayMs).unref();
  };
  plan(0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await sweeping;
    },
  };
}
