// Passwords and tokens never appear in logs. Every flow runs
// with the service logging at debug level into memory; then the log is
// searched for every secret used.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { maskTokenInUrl } from '../../src/http/logging.js';
import { describeEachDatabase } from '../kit/databases.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

class MemoryLog extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

test('a token in a logged URL is masked', () => {
  assert.equal(maskTokenInUrl('/rbac-api/v1/users/current?token=abc.def&x=1'), '/rbac-api/v1/users/current?token=[REDACTED]&x=1');
  assert.equal(maskTokenInUrl('/auth/reset?lang=en&TOKEN=secret'), '/auth/reset?lang=en&TOKEN=[REDACTED]');
  assert.equal(maskTokenInUrl('/rbac-api/v2/tokens?revoke_tokens=abc,def&revoke_tokens_by_labels=ci'), '/rbac-api/v2/tokens?revoke_tokens=[REDACTED]&revoke_tokens_by_labels=[REDACTED]');
  assert.equal(maskTokenInUrl('/rbac-api/v2/tokens/abc_DEF-123?token=x'), '/rbac-api/v2/tokens/[REDACTED]?token=[REDACTED]', "DELETE /rbac-api/v2/tokens/<token>'s path");
  assert.equal(maskTokenInUrl('/rbac-api/v2/tokens'), '/rbac-api/v2/tokens');
});

test('query parameters are masked by their decoded name, however spelt, and malformed encodings do not stop it', () => {
  const masked = [
    '%74oken',
    'tok%65n',
    '%54%4F%4B%45%4E',
    'Token',
    'reset_token',
    'reset-token',
    'reset%5Ftoken',
    'password',
    'new+password',
    'current_password',
    'token[]',
  ];
  for (const name of masked) {
    assert.equal(maskTokenInUrl(`/p?a=1&${name}=s3cret&b=2`), `/p?a=1&${name}=[REDACTED]&b=2`, name);
  }
  assert.equal(maskTokenInUrl('/p?%E0%A4%A=1&%ZZ=2&tok%65n=s3cret%E0%A4%A&x=%'), '/p?%E0%A4%A=1&%ZZ=2&tok%65n=[REDACTED]&x=%');
  assert.equal(maskTokenInUrl('/p?token=a=b&token=c'), '/p?token=[REDACTED]&token=[REDACTED]');
  assert.equal(maskTokenInUrl('/p?lang=en&page=2'), '/p?lang=en&page=2', 'other parameters are kept');
});

describeEachDatabase('no secrets in logs', (target) => {
  const log = new MemoryLog();
  let service: TestService;
  before(async () => {
    service = await startTestService(target.dialect, {}, { logStream: log });
  });
  after(() => service?.close());

  test('a login token sent under a percent-encoded spelling of the token parameter authenticates and is not logged', async () => {
    const secret = await service.login('admin', ADMIN_PASSWORD);
    for (const name of ['%74oken', 'tok%65n', '%74%6F%6B%65%6E', 't%6Fken']) {
      const before = log.text.length;
      const response = await service.request({ method: 'GET', url: `/rbac-api/v1/users/current?${name}=${encodeURIComponent(secret)}` });
      assert.equal(response.statusCode, 200, `${name} authenticates (the parser decodes the name)`);
      const written = log.text.slice(before);
      assert.ok(written.includes(`${name}=[REDACTED]`), `${name}: the logged URL is masked: ${written}`);
      assert.ok(!written.includes(secret), `${name}: the token is not in the log`);
    }
    // A request the framework answers itself (bad percent-encoding) is logged, masked, too.
    const before = log.text.length;
    const refused = await service.request({ method: 'GET', url: `/rbac-api/v1/users/%E0%A4%A?tok%65n=${encodeURIComponent(secret)}` });
    assert.equal(refused.statusCode, 400);
    const written = log.text.slice(before);
    assert.ok(written.includes('tok%65n=[REDACTED]') && written.includes('request completed'), written);
    assert.ok(!written.includes(secret));
  });

  test('logins, token use, resets, changes and failures log no password or token', async () => {
    const secrets = [ADMIN_PASSWORD, USER_PASSWORD];
    const admin = await service.adminToken();
    secrets.push(admin);
    const id = await service.createUser('log-user');
    const userToken = await service.login('log-user', USER_PASSWORD);
    secrets.push(userToken);

    await service.request({ method: 'GET', url: `/rbac-api/v1/users/current?token=${userToken}` });
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'log-user', password: 'wrong secret value 1' } });
    secrets.push('wrong secret value 1');
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: '{"login": "log-user", "password": "broken json secret 2"', headers: { 'content-type': 'application/json' } });
    secrets.push('broken json secret 2');
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/token', payload: { login: 'log-user', password: 'unknown key secret 3', extra: 1 } });
    secrets.push('unknown key secret 3');

    const resetToken = (await service.request({ method: 'POST', url: `/rbac-api/v1/users/${id}/password/reset`, token: admin })).body;
    secrets.push(resetToken);
    await service.request({ method: 'GET', url: `/auth/reset?token=${resetToken}` });
    await service.request({ method: 'POST', url: '/rbac-api/v1/command/validate-password', payload: { password: 'validated secret 4', reset_token: resetToken } });
    secrets.push('validated secret 4');
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: resetToken, password: 'short' } });
    await service.request({ method: 'POST', url: '/rbac-api/v1/auth/reset', payload: { token: resetToken, password: 'reset secret passphrase 5' } });
    secrets.push('reset secret passphrase 5');
    const newToken = await service.login('log-user', 'reset secret passphrase 5');
    secrets.push(newToken);
    await service.request({
      method: 'PUT',
      url: '/rbac-api/v1/users/current/password',
      token: newToken,
      payload: { current_password: 'reset secret passphrase 5', password: 'changed secret passphrase 6' },
    });
    secrets.push('changed secret passphrase 6');

    assert.ok(log.text.includes('"req"'), 'requests were logged');
    assert.ok(log.text.includes('[REDACTED]'), 'the token query parameter was logged masked');
    for (const secret of secrets) {
      assert.ok(!log.text.includes(secret), `the log contains a secret: ${secret.slice(0, 12)}…`);
    }
    // Not even the signature part of a JWT, which is what makes it usable.
    assert.ok(!log.text.includes(resetToken.split('.')[2] as string));
  });
});
