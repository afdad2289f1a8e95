// The `rbac` command's usage: --help on every command, usage errors, and
// bad settings, driven as a subprocess exactly as an operator runs it. Exit
// codes: 0 ok, 1 failure, 2 usage or configuration error.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runLimited } from '../kit/concurrency.js';
import { runCli, type CliResult } from '../kit/processes.js';
import { NEW_ADMIN_PASSWORD, expectExit } from './support.js';

describe('rbac: help, usage errors and settings', () => {
  const COMMANDS: { args: string[]; mentions: RegExp }[] = [
    { args: [], mentions: /Usage: rbac \[options\] \[command\][\s\S]*reset-admin-password[\s\S]*users[\s\S]*roles[\s\S]*tokens[\s\S]*reset-token[\s\S]*migrate[\s\S]*config/ },
    { args: ['serve'], mentions: /Usage: rbac serve[\s\S]*--failed-attempts-lockout/ },
    { args: ['reset-admin-password'], mentions: /Usage: rbac reset-admin-password[\s\S]*--password-stdin[\s\S]*--password <password>/ },
    { args: ['users'], mentions: /Usage: rbac users[\s\S]*list[\s\S]*create[\s\S]*revoke[\s\S]*unrevoke[\s\S]*delete/ },
    { args: ['users', 'list'], mentions: /Usage: rbac users list[\s\S]*--json/ },
    { args: ['users', 'create'], mentions: /Usage: rbac users create \[options\] <login>[\s\S]*--remote[\s\S]*--password-stdin/ },
    { args: ['users', 'revoke'], mentions: /Usage: rbac users revoke \[options\] <login>/ },
    { args: ['users', 'unrevoke'], mentions: /Usage: rbac users unrevoke \[options\] <login>/ },
    { args: ['users', 'delete'], mentions: /Usage: rbac users delete \[options\] <login>/ },
    { args: ['users', 'unbind'], mentions: /Usage: rbac users unbind \[options\] \[login\][\s\S]*--directory <id>/ },
    { args: ['roles'], mentions: /Usage: rbac roles[\s\S]*list[\s\S]*create[\s\S]*assign[\s\S]*unassign/ },
    { args: ['roles', 'list'], mentions: /Usage: rbac roles list[\s\S]*--json/ },
    { args: ['roles', 'create'], mentions: /Usage: rbac roles create \[options\] <name>[\s\S]*--description[\s\S]*--permission <type:action\[:instance\]>/ },
    { args: ['roles', 'assign'], mentions: /Usage: rbac roles assign \[options\] <role> <login>/ },
    { args: ['roles', 'unassign'], mentions: /Usage: rbac roles unassign \[options\] <role> <login>/ },
    { args: ['tokens'], mentions: /Usage: rbac tokens[\s\S]*list[\s\S]*revoke/ },
    { args: ['tokens', 'list'], mentions: /Usage: rbac tokens list \[options\] <login>[\s\S]*--json/ },
    { args: ['tokens', 'revoke'], mentions: /Usage: rbac tokens revoke \[options\] <login>/ },
    { args: ['reset-token'], mentions: /Usage: rbac reset-token \[options\] <login>/ },
    { args: ['migrate'], mentions: /Usage: rbac migrate/ },
    { args: ['config'], mentions: /Usage: rbac config[\s\S]*check/ },
    { args: ['config', 'check'], mentions: /Usage: rbac config check[\s\S]*--database-url/ },
  ];

  test('--help on every command and subcommand exits 0 and describes that command', async () => {
    const results = await runLimited(COMMANDS.map(({ args }) => () => runCli([...args, '--help'])));
    COMMANDS.forEach(({ args, mentions }, index) => {
      const result = results[index] as CliResult;
      const name = ['rbac', ...args, '--help'].join(' ');
      expectExit(result, 0, name);
      assert.match(result.stdout, mentions, `${name} prints its usage`);
      const group = args.length === 1 && ['users', 'roles', 'tokens', 'config'].includes(args[0] ?? '');
      if (args.length > 0 && !group) {
        assert.match(result.stdout, /--data-dir[\s\S]*--database-url/, `${name} lists the common settings`);
      }
    });
  });

  test('reset-token --help lists the settings that change the printed link: public-url, port, insecure-http', async () => {
    const result = await runCli(['reset-token', '--help']);
    expectExit(result, 0, 'rbac reset-token --help');
    for (const flag of ['--public-url', '--port', '--insecure-http']) assert.ok(result.stdout.includes(flag), `${flag} in:\n${result.stdout}`);
    assert.ok(!result.stdout.includes('--rate-limit-per-address'), 'settings that change nothing here stay out of its help');
  });

  test('an unknown command, a missing argument or a missing subcommand exits 2 with the reason on stderr', async () => {
    const cases: { args: string[]; reason: RegExp }[] = [
      { args: ['frobnicate'], reason: /unknown command 'frobnicate'/ },
      { args: ['users', 'create'], reason: /missing required argument 'login'/ },
      { args: ['reset-token'], reason: /missing required argument 'login'/ },
      { args: ['users'], reason: /Usage: rbac users/ },
      { args: ['roles', 'assign', 'Helpdesk'], reason: /missing required argument 'login'/ },
      { args: ['tokens', 'revoke'], reason: /missing required argument 'login'/ },
    ];
    const results = await runLimited(cases.map(({ args }) => () => runCli(args)));
    cases.forEach(({ args, reason }, index) => {
      const result = results[index] as CliResult;
      expectExit(result, 2, `rbac ${args.join(' ')}`);
      assert.match(result.stderr, reason, `rbac ${args.join(' ')}`);
      assert.equal(result.stdout, '', 'nothing on stdout');
    });
  });

  test('a bad setting value (flag, RBAC_* variable, config file) exits 2 naming the key and touches no data', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    const configFile = path.join(tmpdir(), `rbac-cli-test-${process.pid}.yaml`);
    writeFileSync(configFile, 'rbac:\n  password-reset-expiration: soon\n');
    try {
      const cases: { args: string[]; env?: NodeJS.ProcessEnv; key: string }[] = [
        { args: ['reset-admin-password', '--password-stdin', '--failed-attempts-lockout', 'abc'], key: 'failed-attempts-lockout' },
        { args: ['reset-token', 'someone'], env: { RBAC_TOKEN_AUTH_LIFETIME: 'forever' }, key: 'token-auth-lifetime' },
        { args: ['config', 'check', '--port', '99999'], key: 'port' },
        { args: ['config', 'check', '--config', configFile], key: 'password-reset-expiration' },
      ];
      const results = await runLimited(
        cases.map(({ args, env }) => () => runCli([...args, '--data-dir', dataDir], { input: `${NEW_ADMIN_PASSWORD}\n`, ...(env ? { env } : {}) })),
      );
      cases.forEach(({ args, key }, index) => {
        const result = results[index] as CliResult;
        expectExit(result, 2, `rbac ${args.join(' ')}`);
        assert.match(result.stderr, new RegExp(`^rbac: configuration key "${key}"`, 'm'));
        assert.equal(result.stdout, '', 'nothing on stdout');
      });
      assert.deepEqual(readdirSync(dataDir), [], 'no database was created');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configFile, { force: true });
    }
  });

  test('reset-admin-password without a terminal and without a password flag exits 2 and creates nothing; both flags at once exit 2', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rbac-cli-test-'));
    try {
      const [noTty, both] = await runLimited([
        () => runCli(['reset-admin-password', '--data-dir', dataDir]),
        () => runCli(['reset-admin-password', '--data-dir', dataDir, '--password-stdin', '--password', NEW_ADMIN_PASSWORD], { input: `${NEW_ADMIN_PASSWORD}\n` }),
      ]);
      expectExit(noTty as CliResult, 2, 'no TTY, no flag');
      assert.match((noTty as CliResult).stderr, /^rbac: no terminal to ask for the password: use --password-stdin/m);
      expectExit(both as CliResult, 2, '--password and --password-stdin');
      assert.match((both as CliResult).stderr, /either --password or --password-stdin/);
      assert.deepEqual(readdirSync(dataDir), [], 'no database was created');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('config check warns about RBAC_ variables that are no setting, and names every bad key at once', async () => {
    const warned = await runCli(['config', 'check'], { env: { RBAC_PROT: '8443' } });
    expectExit(warned, 0, 'config check with a misspelt variable');
    assert.match(warned.stderr, /^rbac: warning: RBAC_PROT is not a setting and is ignored; did you mean RBAC_PORT\?$/m);
    assert.ok(warned.stdout.split('\n').includes('port = 4433'), 'the success goes to stdout');
    const bad = await runCli(['config', 'check', '--port', 'many'], { env: { RBAC_FAILED_ATTEMPTS_LOCKOUT: '-1' } });
    expectExit(bad, 2, 'config check with two bad keys');
    assert.match(bad.stderr, /^rbac: 2 configuration problems:$/m);
    assert.match(bad.stderr, /"port":/);
    assert.match(bad.stderr, /"failed-attempts-lockout":/);
  });

  test('config check prints every effective setting with the database-url and rate-limit-store passwords masked', async () => {
    const url = 'postgres://rbac:s3cr3t-pw@db.example.com:5432/rbac';
    const result = await runCli(['config', 'check', '--database-url', url, '--failed-attempts-lockout', '7', '--data-dir', '/srv/rbac'], {
      env: { RBAC_TOKEN_AUTH_LIFETIME: '2h', RBAC_RATE_LIMIT_STORE: 'redis://:r3dis-pw@cache.example.com:6379/0' },
    });
    expectExit(result, 0, 'config check');
    const lines = result.stdout.trim().split('\n');
    assert.ok(lines.every((line) => /^[a-z-]+ = /.test(line)), `key = value lines: ${result.stdout}`);
    assert.ok(lines.includes('database-url = postgres://rbac:*****@db.example.com:5432/rbac'), result.stdout);
    assert.ok(lines.includes('rate-limit-store = redis://:*****@cache.example.com:6379/0'), result.stdout);
    assert.doesNotMatch(result.stdout + result.stderr, /s3cr3t-pw|r3dis-pw/);
    assert.ok(lines.includes('failed-attempts-lockout = 7'));
    assert.ok(lines.includes('token-auth-lifetime = 2h'), 'RBAC_* variables count, and durations are shown in their units');
    assert.ok(lines.includes('request-timeout = 30s') && lines.includes('token-maximum-lifetime = 10y'), result.stdout);
    assert.ok(lines.includes('data-dir = /srv/rbac'));
    assert.ok(lines.includes('port = 4433'), 'defaults are shown');
    assert.ok(!result.stdout.includes('s3cr3t-pw') && !result.stderr.includes('s3cr3t-pw'), 'the password never appears');
  });
});
