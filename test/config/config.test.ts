// The settings (docs/operations.md, Configuration reference), their defaults, where they come from
// (flags > RBAC_* environment > config file > defaults), JSON and YAML config
// files with keys under `rbac`, and bad values that stop start-up with a
// message naming the key. Pure unit tests: no database.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Type } from 'typebox';
import { ConfigError, SETTINGS, envName, loadConfig, parseValue, unknownVariableWarnings, type SettingKey } from '../../src/config/config.js';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import type { Config, ConfigSources } from '../../src/config/config.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

const scratch = mkdtempSync(path.join(tmpdir(), 'rbac-config-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let fileCounter = 0;
/** Writes a config file into the scratch dir and returns its path. */
function configFile(extension: string, content: string): string {
  const file = path.join(scratch, `config-${++fileCounter}.${extension}`);
  writeFileSync(file, content);
  return file;
}

/** Asserts that `run` throws a ConfigError for `key` whose message names the key. */
function assertConfigError(run: () => unknown, key: string, label = key): void {
  assert.throws(
    run,
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${label}: expected a ConfigError, got ${String(error)}`);
      assert.equal(error.key, key, label);
      assert.ok(error.message.includes(key), `${label}: message ${JSON.stringify(error.message)} names ${key}`);
      return true;
    },
    label,
  );
}

describe('configuration defaults', () => {
  test('with no flags, no RBAC_* variables and no file, every setting has its documented default', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.failedAttemptsLockout, 10);
    assert.equal(config.passwordResetExpirationHours, 24);
    assert.equal(config.tokenAuthLifetimeSeconds, HOUR, 'token-auth-lifetime 1h');
    assert.equal(config.tokenMaximumLifetimeSeconds, 10 * YEAR, 'token-maximum-lifetime 10y');
    assert.equal(config.passwordMinimumLength, 12);
    assert.equal(config.port, 4433);
    assert.equal(config.insecureHttp, false, 'HTTPS by default');
    assert.equal(config.host, undefined);
    assert.equal(config.databaseUrl, undefined, 'embedded SQLite by default');
    assert.equal(config.tlsCert, undefined);
    assert.equal(config.tlsKey, undefined);
  });

  test('the default data dir is ./data, resolved to an absolute path', () => {
    const config = loadConfig({ env: {} });
    assert.ok(path.isAbsolute(config.dataDir));
    assert.equal(config.dataDir, path.resolve(process.cwd(), 'data'));
  });

  test('a relative data dir from any source is resolved against the working directory', () => {
    assert.equal(loadConfig({ env: { RBAC_DATA_DIR: 'some/where' } }).dataDir, path.resolve('some/where'));
  });

  test('every setting has an RBAC_* environment variable named after its key', () => {
    assert.equal(envName('failed-attempts-lockout'), 'RBAC_FAILED_ATTEMPTS_LOCKOUT');
    assert.equal(envName('port'), 'RBAC_PORT');
    assert.equal(envName('data-dir'), 'RBAC_DATA_DIR');
    assert.equal(envName('database-url'), 'RBAC_DATABASE_URL');
  });
});

describe('configuration sources and precedence', () => {
  test('RBAC_* environment variables set every PE setting', () => {
    const config = loadConfig({
      env: {
        RBAC_FAILED_ATTEMPTS_LOCKOUT: '3',
        RBAC_PASSWORD_RESET_EXPIRATION: '2',
        RBAC_TOKEN_AUTH_LIFETIME: '15m',
        RBAC_TOKEN_MAXIMUM_LIFETIME: '2d',
        RBAC_PASSWORD_MINIMUM_LENGTH: '16',
        RBAC_PORT: '8443',
        RBAC_HOST: '::1',
        RBAC_DATA_DIR: '/tmp/rbac-env-data',
        RBAC_DATABASE_URL: 'postgres://u@db.example:5432/rbac',
        RBAC_INSECURE_HTTP: 'true',
      },
    });
    assert.equal(config.failedAttemptsLockout, 3);
    assert.equal(config.passwordResetExpirationHours, 2);
    assert.equal(config.tokenAuthLifetimeSeconds, 15 * MINUTE);
    assert.equal(config.tokenMaximumLifetimeSeconds, 2 * DAY);
    assert.equal(config.passwordMinimumLength, 16);
    assert.equal(config.port, 8443);
    assert.equal(config.host, '::1');
    assert.equal(config.dataDir, '/tmp/rbac-env-data');
    assert.equal(config.databaseUrl, 'postgres://u@db.example:5432/rbac');
    assert.equal(config.insecureHttp, true);
  });

  test('flags beat RBAC_* environment variables, which beat the config file, which beats the defaults', () => {
    const file = configFile(
      'json',
      JSON.stringify({ rbac: { 'failed-attempts-lockout': 5, 'password-minimum-length': 14, port: 9000, 'password-reset-expiration': 48 } }),
    );
    const config = loadConfig({
      configFile: file,
      env: { RBAC_FAILED_ATTEMPTS_LOCKOUT: '6', RBAC_PASSWORD_MINIMUM_LENGTH: '15' },
      flags: { 'failed-attempts-lockout': '7' },
    });
    assert.equal(config.failedAttemptsLockout, 7, 'flag > env > file');
    assert.equal(config.passwordMinimumLength, 15, 'env > file');
    assert.equal(config.port, 9000, 'file > default');
    assert.equal(config.passwordResetExpirationHours, 48, 'file > default');
    assert.equal(config.tokenAuthLifetimeSeconds, HOUR, 'default when no source sets it');
  });

  test('a flag given as undefined (not passed) does not hide the environment', () => {
    const config = loadConfig({ env: { RBAC_PORT: '8080' }, flags: { port: undefined } });
    assert.equal(config.port, 8080);
  });

  test('the config file can come from the --config flag or RBAC_CONFIG', () => {
    const file = configFile('json', JSON.stringify({ rbac: { 'failed-attempts-lockout': 4 } }));
    assert.equal(loadConfig({ env: {}, flags: { config: file } }).failedAttemptsLockout, 4);
    assert.equal(loadConfig({ env: { RBAC_CONFIG: file } }).failedAttemptsLockout, 4);
  });

  test('a JSON config file with keys under rbac sets the PE settings', () => {
    const file = configFile(
      'json',
      JSON.stringify({
        rbac: {
          'failed-attempts-lockout': 3,
          'password-reset-expiration': 12,
          'token-auth-lifetime': '30s',
          'token-maximum-lifetime': '1y',
          'password-minimum-length': 20,
          'insecure-http': true,
        },
      }),
    );
    const config = loadConfig({ env: {}, configFile: file });
    assert.equal(config.failedAttemptsLockout, 3);
    assert.equal(config.passwordResetExpirationHours, 12);
    assert.equal(config.tokenAuthLifetimeSeconds, 30);
    assert.equal(config.tokenMaximumLifetimeSeconds, YEAR);
    assert.equal(config.passwordMinimumLength, 20);
    assert.equal(config.insecureHttp, true);
  });

  test('a YAML config file with keys under rbac sets the PE settings', () => {
    for (const extension of ['yaml', 'yml']) {
      const file = configFile(
        extension,
        [
          '# PE-style settings',
          'rbac:',
          '  failed-attempts-lockout: 4',
          '  password-reset-expiration: 6',
          '  token-auth-lifetime: 4h',
          '  token-maximum-lifetime: 2d',
          '  password-minimum-length: 13',
          '  port: 8444',
          '',
        ].join('\n'),
      );
      const config = loadConfig({ env: {}, configFile: file });
      assert.equal(config.failedAttemptsLockout, 4, extension);
      assert.equal(config.passwordResetExpirationHours, 6, extension);
      assert.equal(config.tokenAuthLifetimeSeconds, 4 * HOUR, extension);
      assert.equal(config.tokenMaximumLifetimeSeconds, 2 * DAY, extension);
      assert.equal(config.passwordMinimumLength, 13, extension);
      assert.equal(config.port, 8444, extension);
    }
  });

  test('failed-attempts-lockout-duration is unset by default and set from the environment, a config file or a flag', () => {
    assert.equal(loadConfig({ env: {} }).failedAttemptsLockoutDurationSeconds, undefined, 'unset: PE behaviour, the lockout stays');
    assert.equal(loadConfig({ env: { RBAC_FAILED_ATTEMPTS_LOCKOUT_DURATION: '15m' } }).failedAttemptsLockoutDurationSeconds, 15 * MINUTE);
    const yaml = configFile('yaml', 'rbac:\n  failed-attempts-lockout-duration: 1h\n');
    assert.equal(loadConfig({ env: {}, configFile: yaml }).failedAttemptsLockoutDurationSeconds, HOUR);
    const json = configFile('json', JSON.stringify({ rbac: { 'failed-attempts-lockout-duration': 90 } }));
    assert.equal(loadConfig({ env: {}, configFile: json }).failedAttemptsLockoutDurationSeconds, 90);
    assert.equal(loadConfig({ env: {}, flags: { 'failed-attempts-lockout-duration': '2d' } }).failedAttemptsLockoutDurationSeconds, 2 * DAY);
  });

  test('a number without a unit in a config file is a lifetime in seconds', () => {
    const file = configFile('json', JSON.stringify({ rbac: { 'token-auth-lifetime': 90 } }));
    assert.equal(loadConfig({ env: {}, configFile: file }).tokenAuthLifetimeSeconds, 90);
  });
});

describe('bad configuration stops start-up, naming the key', () => {
  test('RBAC_FAILED_ATTEMPTS_LOCKOUT=abc', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_FAILED_ATTEMPTS_LOCKOUT: 'abc' } }), 'failed-attempts-lockout');
  });

  test('bad numbers never fall back to the default', () => {
    const cases: [string, string][] = [
      ['RBAC_FAILED_ATTEMPTS_LOCKOUT', '0'],
      ['RBAC_FAILED_ATTEMPTS_LOCKOUT', '-1'],
      ['RBAC_FAILED_ATTEMPTS_LOCKOUT', '2.5'],
      ['RBAC_PASSWORD_RESET_EXPIRATION', '1h'],
      ['RBAC_PASSWORD_MINIMUM_LENGTH', 'twelve'],
      ['RBAC_PORT', '70000'],
      ['RBAC_PORT', '-1'],
      ['RBAC_PORT', '443x'],
    ];
    for (const [variable, value] of cases) {
      const key = variable.replace(/^RBAC_/, '').toLowerCase().replace(/_/g, '-');
      assertConfigError(() => loadConfig({ env: { [variable]: value } }), key, `${variable}=${JSON.stringify(value)}`);
    }
  });

  test('port 70000 from a flag', () => {
    assertConfigError(() => loadConfig({ env: {}, flags: { port: '70000' } }), 'port');
  });

  test('a bad flag is reported even when the environment has a good value (no silent fallback)', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_PORT: '8443' }, flags: { port: 'many' } }), 'port');
  });

  test('token-auth-lifetime "forever" (environment and config file)', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_TOKEN_AUTH_LIFETIME: 'forever' } }), 'token-auth-lifetime');
    const file = configFile('yaml', 'rbac:\n  token-auth-lifetime: forever\n');
    assertConfigError(() => loadConfig({ env: {}, configFile: file }), 'token-auth-lifetime', 'from YAML');
  });

  test('failed-attempts-lockout-duration that is not a duration, or 0', () => {
    for (const value of ['forever', '1w', '-5m', '0', '0s', 'true']) {
      assertConfigError(
        () => loadConfig({ env: { RBAC_FAILED_ATTEMPTS_LOCKOUT_DURATION: value } }),
        'failed-attempts-lockout-duration',
        `RBAC_FAILED_ATTEMPTS_LOCKOUT_DURATION=${value}`,
      );
    }
    const file = configFile('yaml', 'rbac:\n  failed-attempts-lockout-duration: true\n');
    assertConfigError(() => loadConfig({ env: {}, configFile: file }), 'failed-attempts-lockout-duration', 'a boolean in YAML');
  });

  test('token-maximum-lifetime that is not a duration', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_TOKEN_MAXIMUM_LIFETIME: '1w' } }), 'token-maximum-lifetime');
  });

  test('a token-auth-lifetime longer than token-maximum-lifetime is refused', () => {
    assertConfigError(
      () => loadConfig({ env: { RBAC_TOKEN_AUTH_LIFETIME: '2d', RBAC_TOKEN_MAXIMUM_LIFETIME: '1d' } }),
      'token-auth-lifetime',
    );
  });

  test('database-url "mysql://x"', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_DATABASE_URL: 'mysql://x' } }), 'database-url');
    assertConfigError(() => loadConfig({ env: {}, flags: { 'database-url': 'mysql://x' } }), 'database-url', 'from a flag');
  });

  test('insecure-http that is not a boolean', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_INSECURE_HTTP: 'maybe' } }), 'insecure-http');
  });

  test('a bad value in a JSON config file', () => {
    const file = configFile('json', JSON.stringify({ rbac: { 'password-minimum-length': 'long' } }));
    assertConfigError(() => loadConfig({ env: {}, configFile: file }), 'password-minimum-length');
  });

  test('a value of the wrong type in a config file (list, mapping, null)', () => {
    for (const value of [[10], { n: 10 }, null]) {
      const file = configFile('json', JSON.stringify({ rbac: { 'failed-attempts-lockout': value } }));
      assertConfigError(() => loadConfig({ env: {}, configFile: file }), 'failed-attempts-lockout', JSON.stringify(value));
    }
  });

  test('an unknown key in the config file is refused, naming the key (JSON and YAML)', () => {
    const json = configFile('json', JSON.stringify({ rbac: { 'failed-attempts-lockout': 3, 'failed-attempt-lockout': 3 } }));
    assertConfigError(() => loadConfig({ env: {}, configFile: json }), 'failed-attempt-lockout', 'JSON');
    const yaml = configFile('yaml', 'rbac:\n  password-min-length: 14\n');
    assertConfigError(() => loadConfig({ env: {}, configFile: yaml }), 'password-min-length', 'YAML');
  });

  test('settings written outside the rbac section are refused, naming them, not ignored; an empty file is no settings', () => {
    const yaml = configFile('yaml', 'port: 8443\nfailed-attempts-lockout: 3\n');
    assert.throws(() => loadConfig({ env: {}, configFile: yaml }), {
      message: `configuration key "port": is outside the \`rbac\` section of ${yaml}; settings go under \`rbac:\` (found at the top level: port, failed-attempts-lockout)`,
    });
    const beside = configFile('json', JSON.stringify({ rbac: { port: 8443 }, 'log-level': 'debug' }));
    assertConfigError(() => loadConfig({ env: {}, configFile: beside }), 'log-level', 'beside rbac');
    assertConfigError(() => loadConfig({ env: {}, configFile: configFile('yaml', '- port: 8443\n') }), 'config', 'a list');
    assert.equal(loadConfig({ env: {}, configFile: configFile('yaml', '') }).port, 4433);
    assert.equal(loadConfig({ env: {}, configFile: configFile('yaml', '# nothing yet\n') }).port, 4433);
  });

  test('an empty RBAC_ variable counts as unset; a blank one is still refused', () => {
    const config = loadConfig({ env: { RBAC_DATABASE_URL: '', RBAC_PORT: '', RBAC_FAILED_ATTEMPTS_LOCKOUT: '' } });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.port, 4433);
    assert.equal(config.failedAttemptsLockout, 10);
    assert.equal(loadConfig({ env: { RBAC_PORT: '' }, configFile: configFile('yaml', 'rbac:\n  port: 8443\n') }).port, 8443, 'the file still counts');
    assertConfigError(() => loadConfig({ env: { RBAC_DATABASE_URL: ' ' } }), 'database-url');
  });

  test('a config file that cannot be read or parsed stops start-up', () => {
    assert.throws(() => loadConfig({ env: {}, configFile: path.join(scratch, 'does-not-exist.yaml') }), ConfigError);
    const broken = configFile('json', '{ "rbac": { "port": ');
    assert.throws(() => loadConfig({ env: {}, configFile: broken }), ConfigError);
  });

  test('an rbac section that is not a mapping is refused', () => {
    const file = configFile('yaml', 'rbac:\n  - port\n');
    assertConfigError(() => loadConfig({ env: {}, configFile: file }), 'rbac');
  });
});

describe('parseValue: TypeBox converts and checks every setting value', () => {
  const PORT = Type.Integer({ minimum: 0, maximum: 65535 });

  test('a whole number within its bounds, from text or a number; surrounding blanks are ignored', () => {
    assert.equal(parseValue(PORT, '0'), 0);
    assert.equal(parseValue(PORT, '65535'), 65535);
    assert.equal(parseValue(PORT, ' 7 '), 7);
    assert.equal(parseValue(PORT, 8443), 8443);
    for (const raw of ['-1', '65536', -1, 65536]) {
      assert.throws(() => parseValue(PORT, raw), { message: `must be a whole number from 0 to 65535, got ${JSON.stringify(raw)}` }, String(raw));
    }
  });

  test('anything but decimal digits is refused as a whole number, never truncated or read as 0', () => {
    for (const raw of ['abc', '12.5', '1e3', '0x10', '443x', '', ' ', 'true', true, false, 12.5]) {
      assert.throws(() => parseValue(PORT, raw), { message: `must be a whole number from 0 to 65535, got ${JSON.stringify(raw)}` }, JSON.stringify(raw));
    }
  });

  test('a boolean is true/false, 1/0, yes/no or on/off in any case; an empty value is false', () => {
    for (const raw of ['true', 'TRUE', '1', 'yes', 'Yes', 'on', ' on ', true, 1]) assert.equal(parseValue(Type.Boolean(), raw), true, JSON.stringify(raw));
    for (const raw of ['false', 'False', '0', 'no', 'off', 'OFF', '', false, 0]) assert.equal(parseValue(Type.Boolean(), raw), false, JSON.stringify(raw));
    for (const raw of ['maybe', 'y', '2', 2]) {
      assert.throws(() => parseValue(Type.Boolean(), raw), { message: `must be true or false, got ${JSON.stringify(raw)}` }, JSON.stringify(raw));
    }
  });

  test('a choice of words (log-level) ignores case and names the choices when refused', () => {
    assert.equal(loadConfig({ env: { RBAC_LOG_LEVEL: 'debug' } }).logLevel, 'debug');
    assert.equal(loadConfig({ env: { RBAC_LOG_LEVEL: ' WARN ' } }).logLevel, 'warn');
    assert.equal(loadConfig({ env: {} }).logLevel, 'info');
    assert.throws(() => loadConfig({ env: { RBAC_LOG_LEVEL: 'loud' } }), {
      message: 'configuration key "log-level": must be one of fatal, error, warn, info, debug, trace, silent, got "loud" (from environment variable RBAC_LOG_LEVEL)',
    });
  });

  test('text is trimmed and must not be empty; a number from a config file is its text', () => {
    const text = Type.String({ minLength: 1 });
    assert.equal(parseValue(text, '  ./data  '), './data');
    assert.equal(parseValue(text, 90), '90');
    assert.throws(() => parseValue(text, '  '), { message: 'must be a non-empty string, got "  "' });
  });

  test('a bad value names its key and where it came from: config file, environment variable or flag', () => {
    const file = configFile('yaml', 'rbac:\n  port: 12.5\n');
    assert.throws(() => loadConfig({ env: {}, configFile: file }), {
      message: `configuration key "port": must be a whole number from 0 to 65535, got 12.5 (from config file ${file})`,
    });
    assert.throws(() => loadConfig({ env: { RBAC_PORT: '1e3' } }), {
      message: 'configuration key "port": must be a whole number from 0 to 65535, got "1e3" (from environment variable RBAC_PORT)',
    });
    assert.throws(() => loadConfig({ env: {}, flags: { 'insecure-http': 'sometimes' } }), {
      message: 'configuration key "insecure-http": must be true or false, got "sometimes" (from flag --insecure-http)',
    });
  });

  // One bad value per setting; a setting added to the table without one fails to compile.
  const BAD_VALUES: Record<SettingKey, string> = {
    port: '65536',
    host: ' ',
    'data-dir': ' ',
    'database-url': 'mysql://x',
    'insecure-http': 'maybe',
    'tls-cert': '\t',
    'tls-key': ' ',
    'public-url': 'ftp://rbac.example.com',
    'reset-page-continue-url': 'javascript:alert(1)',
    'trusted-proxies': 'the-proxy',
    'request-timeout': '2h',
    'tls-handshake-timeout': '0',
    'max-connections-per-address': '-1',
    'permission-types': '/nonexistent/permission-types.yaml',
    'log-level': 'loud',
    'metrics-port': '65536',
    'metrics-host': ' ',
    'client-ca': ' ',
    'certificate-allowlist': ' ',
    'metrics-allowed-hosts': 'metrics.example.com:9464',
    'rate-limit-per-address': '1000001',
    'rate-limit-per-account': 'many',
    'rate-limit-store': 'http://127.0.0.1:6379',
    'failed-attempts-lockout': '0',
    'failed-attempts-lockout-duration': '0s',
    'password-reset-expiration': '1h',
    'token-auth-lifetime': '1w',
    'token-maximum-lifetime': 'forever',
    'token-inactivity-timeout': '60',
    'password-minimum-length': '7',
    'login-minimum-length': '0',
    'letters-required': '1025',
    'lowercase-letters-required': '1.5',
    'uppercase-letters-required': '1e3',
    'numbers-required': '0x10',
    'special-characters-required': '-1',
    'number-of-previous-passwords': '51',
    'username-substring-match': 'sometimes',
    'substring-character-limit': '256',
    'account-expiry-days': '0',
    'account-expiry-check-minutes': '10081',
    'shutdown-grace-period': '11m',
    'password-maximum-age-days': '0',
  };

  test('rate-limit-store takes a redis:// or rediss:// URL; unset, the database counts', () => {
    assert.equal(loadConfig({ env: { RBAC_RATE_LIMIT_STORE: 'redis://127.0.0.1:6379' } }).rateLimitStore, 'redis://127.0.0.1:6379');
    assert.equal(loadConfig({ env: { RBAC_RATE_LIMIT_STORE: 'rediss://cache.example.com:6380/2' } }).rateLimitStore, 'rediss://cache.example.com:6380/2');
    assert.equal(loadConfig({ env: {} }).rateLimitStore, undefined);
  });

  test('every setting of the table refuses a bad value, naming its key and its environment variable', () => {
    for (const { key } of SETTINGS) {
      const variable = envName(key);
      const run = () => loadConfig({ env: { [variable]: BAD_VALUES[key] } });
      const label = `${variable}=${JSON.stringify(BAD_VALUES[key])}`;
      assertConfigError(run, key, label);
      assert.throws(run, (error: Error) => error.message.endsWith(`(from environment variable ${variable})`), label);
    }
  });
});

test('shutdown-grace-period: 5 s by default, a duration up to 10m, 0 for none', () => {
  assert.equal(loadConfig({ env: {} }).shutdownGracePeriodSeconds, 5);
  assert.equal(loadConfig({ env: { RBAC_SHUTDOWN_GRACE_PERIOD: '30s' } }).shutdownGracePeriodSeconds, 30);
  assert.equal(loadConfig({ env: { RBAC_SHUTDOWN_GRACE_PERIOD: '0' } }).shutdownGracePeriodSeconds, 0);
  assert.equal(loadConfig({ flags: { 'shutdown-grace-period': '10m' }, env: {} }).shutdownGracePeriodSeconds, 600);
  assertConfigError(() => loadConfig({ env: { RBAC_SHUTDOWN_GRACE_PERIOD: '-1s' } }), 'shutdown-grace-period', 'negative');
});

describe('formatDuration: seconds back in PE notation', () => {
  test('the largest unit that divides the value; parseDuration reads it back', () => {
    for (const [seconds, text] of [[0, '0'], [30, '30s'], [90, '90s'], [60, '1m'], [3600, '1h'], [5400, '90m'], [86400, '1d'], [365 * 86400, '1y'], [10 * 365 * 86400, '10y'], [366 * 86400, '366d']] as const) {
      assert.equal(formatDuration(seconds), text);
      assert.equal(parseDuration(text), seconds);
    }
  });
});

describe('parseDuration (PE duration notation)', () => {
  test('units s, m, h, d, y', () => {
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('15m'), 15 * MINUTE);
    assert.equal(parseDuration('4h'), 4 * HOUR);
    assert.equal(parseDuration('2d'), 2 * DAY);
    assert.equal(parseDuration('1y'), YEAR);
    assert.equal(parseDuration('10y'), 10 * YEAR);
  });

  test('no unit means seconds, as text or as a number; 0 is allowed', () => {
    assert.equal(parseDuration('90'), 90);
    assert.equal(parseDuration(90), 90);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(' 5m '), 5 * MINUTE, 'surrounding blanks are ignored');
  });

  test('anything else is rejected', () => {
    for (const text of ['', 'forever', '1w', '-5', '1.5h', '1 h', 'h', '5mm', '10s5m', '0x10', '1e3']) {
      assert.equal(parseDuration(text), undefined, JSON.stringify(text));
    }
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(parseDuration(value), undefined, String(value));
    }
  });

  test('durations too large to count exactly are rejected, not rounded', () => {
    assert.equal(parseDuration('999999999999y'), undefined);
  });
});

describe("PE's password and login rule settings", () => {
  const RULES = {
    'login-minimum-length': 'loginMinimumLength',
    'letters-required': 'lettersRequired',
    'lowercase-letters-required': 'lowercaseLettersRequired',
    'uppercase-letters-required': 'uppercaseLettersRequired',
    'numbers-required': 'numbersRequired',
    'special-characters-required': 'specialCharactersRequired',
    'substring-character-limit': 'substringCharacterLimit',
  } as const;
  /** A different small number per setting, so a value landing in the wrong field shows. */
  const values = Object.fromEntries(Object.keys(RULES).map((key, index) => [key, index + 2]));
  const fieldsOf = (config: Config) => Object.fromEntries(Object.entries(RULES).map(([key, field]) => [key, config[field]]));

  test('defaults: login-minimum-length 1, no composition rule, username-substring-match off with limit 0', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(fieldsOf(config), { ...Object.fromEntries(Object.keys(RULES).map((key) => [key, 0])), 'login-minimum-length': 1 });
    assert.equal(config.usernameSubstringMatch, false);
  });

  test('each is read from a config file (JSON and YAML), an RBAC_* variable and a flag', () => {
    const sources: [string, ConfigSources][] = [
      ['JSON', { env: {}, configFile: configFile('json', JSON.stringify({ rbac: { ...values, 'username-substring-match': true } })) }],
      ['YAML', { env: {}, configFile: configFile('yaml', `rbac:\n${Object.entries({ ...values, 'username-substring-match': true }).map(([key, value]) => `  ${key}: ${value}\n`).join('')}`) }],
      ['environment', { env: { ...Object.fromEntries(Object.entries(values).map(([key, value]) => [envName(key), String(value)])), RBAC_USERNAME_SUBSTRING_MATCH: 'true' } }],
      ['flags', { env: {}, flags: { ...Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)])), 'username-substring-match': true } }],
    ];
    for (const [source, options] of sources) {
      const config = loadConfig(options);
      assert.deepEqual(fieldsOf(config), values, source);
      assert.equal(config.usernameSubstringMatch, true, source);
    }
  });

  test('flags beat the environment, which beats the file, for these settings too', () => {
    const file = configFile('json', JSON.stringify({ rbac: { 'numbers-required': 1, 'login-minimum-length': 4 } }));
    const config = loadConfig({ configFile: file, env: { RBAC_NUMBERS_REQUIRED: '2', RBAC_LOGIN_MINIMUM_LENGTH: '5' }, flags: { 'numbers-required': '3' } });
    assert.equal(config.numbersRequired, 3);
    assert.equal(config.loginMinimumLength, 5);
  });

  test('username-substring-match true with substring-character-limit 0 is refused, naming substring-character-limit', () => {
    assertConfigError(() => loadConfig({ env: { RBAC_USERNAME_SUBSTRING_MATCH: 'true' } }), 'substring-character-limit', 'limit left at its default 0');
    assertConfigError(() => loadConfig({ env: {}, flags: { 'username-substring-match': true, 'substring-character-limit': '0' } }), 'substring-character-limit', 'limit 0 from a flag');
    assert.equal(loadConfig({ env: { RBAC_USERNAME_SUBSTRING_MATCH: 'true', RBAC_SUBSTRING_CHARACTER_LIMIT: '1' } }).substringCharacterLimit, 1);
    assert.equal(loadConfig({ env: { RBAC_SUBSTRING_CHARACTER_LIMIT: '0' } }).usernameSubstringMatch, false, 'limit 0 is fine while the rule is off');
  });

  test('composition counts that together ask for more than 1024 characters are refused; exactly 1024 is accepted', () => {
    const load = (env: Record<string, string>) => () => loadConfig({ env });
    assertConfigError(load({ RBAC_LETTERS_REQUIRED: '500', RBAC_NUMBERS_REQUIRED: '500', RBAC_SPECIAL_CHARACTERS_REQUIRED: '25' }), 'letters-required', 'letters + digits + special');
    assertConfigError(
      load({ RBAC_UPPERCASE_LETTERS_REQUIRED: '600', RBAC_LOWERCASE_LETTERS_REQUIRED: '400', RBAC_NUMBERS_REQUIRED: '25' }),
      'letters-required',
      'upper + lower + digits',
    );
    assert.equal(load({ RBAC_LETTERS_REQUIRED: '500', RBAC_NUMBERS_REQUIRED: '500', RBAC_SPECIAL_CHARACTERS_REQUIRED: '24' })().specialCharactersRequired, 24);
    assert.equal(load({ RBAC_UPPERCASE_LETTERS_REQUIRED: '600', RBAC_LOWERCASE_LETTERS_REQUIRED: '400', RBAC_NUMBERS_REQUIRED: '24' })().numbersRequired, 24);
  });

  test('out-of-range values are refused, naming the key', () => {
    const cases: [string, string][] = [
      ['login-minimum-length', '0'],
      ['login-minimum-length', '256'],
      ['letters-required', '-1'],
      ['numbers-required', '1025'],
      ['special-characters-required', 'some'],
      ['substring-character-limit', '256'],
      ['username-substring-match', 'sometimes'],
    ];
    for (const [key, value] of cases) assertConfigError(() => loadConfig({ env: { [envName(key)]: value } }), key, `${key}=${value}`);
  });
});

describe('every problem at once, and misspelt variables', () => {
  test('every bad key is reported, from every source, each on a line of its own', () => {
    const file = configFile('yaml', 'rbac:\n  prot: 8443\n  token-auth-lifetime: forever\n');
    assert.throws(
      () => loadConfig({ env: { RBAC_FAILED_ATTEMPTS_LOCKOUT: 'abc' }, flags: { port: 'many' }, configFile: file }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const lines = error.message.split('\n');
        assert.equal(lines[0], '4 configuration problems:');
        assert.ok(lines.some((line) => line.includes('"prot": is not a known setting') && line.includes('did you mean port?')), error.message);
        for (const key of ['port', 'failed-attempts-lockout', 'token-auth-lifetime']) assert.ok(lines.some((line) => line.includes(`"${key}":`)), `${key}: ${error.message}`);
        return true;
      },
    );
  });

  test('the rules between settings are reported together too', () => {
    assert.throws(
      () => loadConfig({ env: { RBAC_TLS_CERT: '/etc/rbac/cert.pem', RBAC_TOKEN_AUTH_LIFETIME: '2y', RBAC_TOKEN_MAXIMUM_LIFETIME: '1y' } }),
      (error: unknown) => error instanceof ConfigError && /^2 configuration problems:/.test(error.message) && /"tls-key"/.test(error.message) && /"token-auth-lifetime"/.test(error.message),
    );
  });

  test('RBAC_ variables that are no setting are warned about, naming the closest one; settings and RBAC_CONFIG are not', () => {
    const warnings = unknownVariableWarnings({ RBAC_PROT: '8443', RBAC_FAILED_ATTEMPT_LOCKOUT: '5', RBAC_PORT: '8443', RBAC_CONFIG: 'x.yaml', RBAC_ADMIN_PASSWORD: 'x', HOME: '/root' });
    assert.deepEqual(warnings, [
      'RBAC_FAILED_ATTEMPT_LOCKOUT is not a setting and is ignored; did you mean RBAC_FAILED_ATTEMPTS_LOCKOUT?',
      'RBAC_PROT is not a setting and is ignored; did you mean RBAC_PORT?',
    ]);
  });
});
