// Passwords and tokens never appear in logs. Every flow runs
// with the service logging at debug level into memory; then the log is
// searched for every secret used.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { redactUrl } from '../../src/http/logging.js';
import { describeEachDatabase } from '../kit/databases.js';
import { assertError } from '../kit/errors.js';
import { ADMIN_PASSWORD, USER_PASSWORD, startTestService, type TestService } from '../kit/service.js';

class MemoryLog extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

test('a token in a logged URL is masked', () => {
  assert.equal(redactUrl('/rbac-api/v1/users/current?token=abc.def&limit=1'), '/rbac-api/v1/users/current?token=[REDACTED]&limit=1');
  assert.equal(redactUrl('/auth/reset?lang=en&TOKEN=secret'), '/auth/reset?lang=[REDACTED]&[REDACTED]=[REDACTED]', 'a name that is not a plain word is redacted too');
  assert.equal(redactUrl('/rbac-api/v2/tokens?revoke_tokens=abc,def&revoke_tokens_by_labels=ci'), '/rbac-api/v2/tokens?revoke_tokens=[REDACTED]&revoke_tokens_by_labels=ci');
  assert.equal(redactUrl('/rbac-api/v2/tokens/abc_DEF-123?token=x'), '/rbac-api/v2/tokens/[REDACTED]?token=[REDACTED]', "DELETE /rbac-api/v2/tokens/<token>'s path");
  assert.equal(redactUrl('/rbac-api/v2/tokens'), '/rbac-api/v2/tokens');
  // A token where an id belongs, in the path or in an id parameter, on a route or not.
  const token = 'yLlD61Rs7AOY8KgxXjOFzilV5goXeyiRJyuQQ8K2u2E';
  assert.equal(redactUrl(`/rbac-api/v1/users/${token}/tokens`), '/rbac-api/v1/users/[REDACTED]/tokens');
  assert.equal(redactUrl(`/rbac-api/v1/userz/${token}`), '/rbac-api/v1/userz/[REDACTED]');
  assert.equal(redactUrl(`/rbac-api/v1/groups?id=${token}`), '/rbac-api/v1/groups?id=[REDACTED]');
  assert.equal(redactUrl(`/rbac-api/v2/tokens?revoke_tokens_by_ids=5e7f1c2a-8b4d-4f6e-9a1b-2c3d4e5f6a7b,${token}`), '/rbac-api/v2/tokens?revoke_tokens_by_ids=[REDACTED]');
  assert.equal(redactUrl(`/auth/reset?${token}`), '/auth/reset?[REDACTED]', 'a bare secret in the query, without a name');
  assert.equal(redactUrl('/auth/reset/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'), '/auth/reset/[REDACTED]');
  // What is kept: ids, numbers, plain words (every route's literal segments, PE's object types and actions).
  const id = '5E7F1C2A-8B4D-4F6E-9A1B-2C3D4E5F6A7B';
  assert.equal(redactUrl(`/rbac-api/v1/permitted/users/edit/${id}`), `/rbac-api/v1/permitted/users/edit/${id}`);
  assert.equal(redactUrl('/rbac-api/v1/roles/12'), '/rbac-api/v1/roles/12');
  assert.equal(redactUrl('/rbac-api/v1/docs/static/swagger-ui-bundle.js'), '/rbac-api/v1/docs/static/swagger-ui-bundle.js');
  assert.equal(
    redactUrl(`/rbac-api/v2/users?offset=0&limit=50&order="desc"&order_by=login&filter=ali&include_roles=true&id=${id},7`),
    `/rbac-api/v2/users?offset=0&limit=50&order="desc"&order_by=login&filter=ali&include_roles=true&id=${id},7`,
  );
  assert.equal(redactUrl('/rbac-api/v2/users?filter=Alice%20Smith'), '/rbac-api/v2/users?filter=[REDACTED]', 'a value that is not plain is redacted even under a harmless name');
  assert.equal(redactUrl('/status/v1/services/rbac-service?level=debug&timeout=5'), '/status/v1/services/rbac-service?level=debug&timeout=5');
  assert.equal(
    redactUrl(`/activity-api/v1/events.csv?service_id=rbac&subject_type=users&subject_id=${id}&object_type=roles&object_id=2,3&query=x`),
    `/activity-api/v1/events.csv?service_id=rbac&subject_type=users&subject_id=${id}&object_type=roles&object_id=2,3&query=[REDACTED]`,
    "PE's activity filters: service names, object types and ids",
  );
  assert.equal(redactUrl(`/activity-api/v1/events?service_id=rbac&subject_id=${token}`), '/activity-api/v1/events?service_id=rbac&subject_id=[REDACTED]');
  assert.equal(redactUrl('/p?'), '/p?');
  assert.equal(redactUrl('/p?limit=&x='), '/p?limit=&x=', 'an empty value says nothing');
});

test('query parameters are masked by their decoded name, however spelt, and malformed encodings do not stop it', () => {
  // The reset page's form fields (web/reset/), every field name that carries a secret, and names no form uses.
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
    'confirm',
    '%63onfirm',
    'CONFIRM',
    'token[]',
    'confirm%5B%5D',
    'lang',
    'page',
  ];
  for (const name of masked) {
    assert.match(redactUrl(`/p?limit=1&${name}=s3cret&offset=2`), /^\/p\?limit=1&.+=\[REDACTED\]&offset=2$/, name);
    assert.ok(!redactUrl(`/p?${name}=s3cret`).includes('s3cret'), name);
  }
  // A harmless name under another spelling is still that name (the parser decodes it).
  assert.equal(redactUrl('/p?%6Cimit=5&o%66fset=2'), '/p?%6Cimit=5&o%66fset=2');
  assert.equal(redactUrl('/p?%E0%A4%A=1&%ZZ=2&tok%65n=s3cret%E0%A4%A&x=%'), '/p?[REDACTED]=[REDACTED]&[REDACTED]=[REDACTED]&tok%65n=[REDACTED]&x=[REDACTED]');
  assert.equal(redactUrl('/p?token=a=b&token=c'), '/p?token=[REDACTED]&token=[REDACTED]');
  assert.equal(redactUrl('/p?limit=a=b'), '/p?limit=[REDACTED]');
  assert.equal(redactUrl('/%E0%A4%A/%ZZ/x%2Fy'), '/[REDACTED]/[REDACTED]/[REDACTED]');
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

  test('a login token sent where an id belongs is not quoted by invalid-uuid nor logged, nor echoed by a 404', async () => {
    const admin = await service.adminToken();
    // A live token of admin's, sent where an id belongs.
    const secret = await service.login('admin', ADMIN_PASSWORD);
    const misplaced: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; payload?: object }[] = [
      { method: 'GET', url: `/rbac-api/v1/users/${secret}` },
      { method: 'PUT', url: `/rbac-api/v1/users/${secret}`, payload: { email: 'x@example.com' } },
      { method: 'DELETE', url: `/rbac-api/v1/users/${secret}` },
      { method: 'GET', url: `/rbac-api/v1/users/${secret}/tokens` },
      { method: 'POST', url: `/rbac-api/v1/users/${secret}/password/reset` },
      { method: 'GET', url: `/rbac-api/v1/permitted/users/edit/${secret}` },
      { method: 'GET', url: `/rbac-api/v1/groups/${secret}` },
      { method: 'GET', url: `/rbac-api/v1/groups?id=${secret}` },
      { method: 'DELETE', url: `/rbac-api/v2/tokens?revoke_tokens_by_ids=${secret}` },
      { method: 'DELETE', url: '/rbac-api/v2/tokens', payload: { revoke_tokens_by_ids: [secret] } },
      { method: 'POST', url: '/rbac-api/v1/permitted', payload: { token: secret, permissions: [] } },
      { method: 'POST', url: '/rbac-api/v1/command/users/add-roles', payload: { user_id: secret, role_ids: [] } },
      { method: 'POST', url: '/rbac-api/v1/command/users/revoke', payload: { user_id: secret } },
    ];
    const start = log.text.length;
    for (const request of misplaced) {
      const response = await service.request({ ...request, token: admin });
      // An ?id= filter's refusal is PE's invalid-id-filter; every other id, invalid-uuid. Neither quotes the value.
      const body = assertError(response, 400, request.url.includes('?id=') ? 'invalid-id-filter' : 'invalid-uuid');
      assert.ok(!response.body.includes(secret) && !body.msg.includes(secret.slice(0, 16)), `${request.method} ${request.url.slice(0, 40)}: ${response.body}`);
    }
    // A permission's instance is an id too.
    const role = await service.request({ method: 'POST', url: '/rbac-api/v1/roles', token: admin, payload: { display_name: 'Misplaced', permissions: [{ object_type: 'users', action: 'edit', instance: secret }] } });
    assertError(role, 400, 'schema-violation');
    assert.ok(!role.body.includes(secret.slice(0, 16)), `the instance is not quoted back: ${role.body}`);
    for (const url of [`/rbac-api/v1/userz/${secret}`, `/rbac-api/v1/${secret}`]) {
      const response = await service.request({ method: 'GET', url, token: admin });
      assertError(response, 404, 'not-found');
      assert.ok(!response.body.includes(secret), `the 404 does not echo the path as sent: ${response.body}`);
    }
    assert.equal((await service.request({ method: 'DELETE', url: `/rbac-api/v2/tokens/${secret}`, token: admin })).statusCode, 204);
    const written = log.text.slice(start);
    assert.equal(written.split('\n').filter((line) => line.includes('"request completed"')).length, misplaced.length + 4, 'every request was logged');
    assert.ok(!written.includes(secret) && !written.includes(secret.slice(0, 16)), `the token is not in the log: ${written.split('\n').find((line) => line.includes(secret.slice(0, 16)))}`);
    assert.ok(written.includes('"url":"/rbac-api/v1/users/[REDACTED]/tokens"'), 'the request line keeps the route and redacts the segment');
  });

  test('a reset-page URL built with the form\'s fields in its query logs none of them, under any spelling of their names', async () => {
    const id = await service.createUser('reset-query-user');
    const resetToken = await service.resetToken(id);
    const password = 'typed into a query string 7';
    const value = encodeURIComponent(password);
    const urls = [
      `/auth/reset?token=${resetToken}&password=${value}&confirm=${value}`,
      `/auth/reset?confirm=${value}`,
      `/auth/reset?%63onfirm=${value}&%70assword=${value}&%74oken=${resetToken}`,
      `/auth/reset?CONFIRM=${value}&Confirm=${value}&confirm%5B%5D=${value}&confirm[]=${value}`,
      `/auth/reset?new_password=${value}&pass=${value}&pw=${value}&secret=${value}&passwd=${value}`,
      `/auth/reset?${value}&=${value}`,
      `/auth/reset/app.js?confirm=${value}`,
      `/rbac-api/v1/users?confirm=${value}`,
    ];
    const start = log.text.length;
    for (const url of urls) {
      const response = await service.request({ method: 'GET', url, token: await service.adminToken() });
      assert.ok(response.statusCode < 500, `${url.slice(0, 40)}: ${response.statusCode}`);
    }
    const written = log.text.slice(start);
    assert.equal(written.split('\n').filter((line) => line.includes('"request completed"')).length, urls.length, 'every request was logged');
    assert.ok(!written.includes(value) && !written.includes(password), `the password is not in the log: ${written}`);
    assert.ok(!written.includes(resetToken.split('.')[2] as string), 'nor the reset token');
    assert.ok(written.includes('"url":"/auth/reset?confirm=[REDACTED]"'), written);
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
