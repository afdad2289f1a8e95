// PE's directory service routes (CONTRACT §11): /command/ldap/create,
// update, delete and test; the older GET/PUT /ds and GET/PUT /ds/test; and
// v2's GET /ldap, /ldap/:id and /ds. The bind password is write-only: no
// answer carries it (DirectorySettings has no such field).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  createDirectory,
  deleteDirectory,
  directoryAccess,
  listDirectories,
  listDirectorySummaries,
  mayEditDirectories,
  readDirectory,
  replaceOnlyDirectory,
  testDirectory,
  testDirectorySettings,
  updateDirectory,
} from '../../directory/directories.js';
import { notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import { Directories, DirectoryIdBody, DirectoryOrNone, DirectoryOrSummary, DirectoryParams, DirectorySettings, DirectoryTestResult, DirectoryUpdateBody, ErrorBody, ListQuery, NewDirectoryBody } from '../../shapes.js';
import { actorOf, contextOf, requireActor } from '../auth.js';

const TEST_RESPONSES = { 200: DirectoryTestResult, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const SETTINGS_RESPONSES = { 200: DirectorySettings, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const testDescription =
  'Connects (TLS as set), binds as the lookup account and reads base_dn; every test is recorded (directory-tested). A failure is 400 directory-test-failed naming the stage: connect, tls, lookup-bind or search (superusers also get the reason).';
const settingsTestDescription = `${testDescription} A password left out is the stored one of the directory with that id, only while hostname, port, ssl, start_tls, cert_chain, the certificate checks and login are as stored (400 otherwise: send the password again).`;

export function directoryRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  return async (app) => {
    app.post(
      '/command/ldap/create',
      { onRequest: authenticated, schema: { tags: ['directory'], summary: 'Connect a directory service (directory_service:edit)', body: NewDirectoryBody, response: SETTINGS_RESPONSES } },
      async (request) => createDirectory(db, actorOf(request), request.body, contextOf(request)),
    );
    app.post(
      '/command/ldap/update',
      {
        onRequest: authenticated,
        schema: { tags: ['directory'], summary: "Replace a directory's settings (directory_service:edit)", description: 'A password left out keeps the stored one, and then hostname, port, ssl, start_tls, cert_chain, the certificate checks and login must be as stored (400: send the password again with them); null removes it.', body: DirectoryUpdateBody, response: SETTINGS_RESPONSES },
      },
      async (request) => updateDirectory(db, actorOf(request), request.body, contextOf(request)),
    );
    app.post(
      '/command/ldap/delete',
      {
        onRequest: authenticated,
        schema: {
          tags: ['directory'],
          summary: 'Disconnect a directory service (directory_service:edit)',
          description: "Its remote users (their login tokens with them) and the groups imported for it are removed too, as PE does. 204 for any well-formed permitted request, even when no directory has the id.",
          body: DirectoryIdBody,
          response: { 204: Type.Null(), 400: ErrorBody, 403: ErrorBody },
        },
      },
      async (request, reply) => {
        await deleteDirectory(db, actorOf(request), request.body.id, contextOf(request));
        return reply.code(204).send(null);
      },
    );
    app.post(
      '/command/ldap/test',
      { onRequest: authenticated, schema: { tags: ['directory'], summary: 'Test directory settings without saving them', description: settingsTestDescription, body: NewDirectoryBody, response: TEST_RESPONSES } },
      async (request) => testDirectorySettings(db, actorOf(request), request.body, contextOf(request)),
    );

    // PE's older single-directory routes: the first directory.
    app.get(
      '/ds',
      {
        onRequest: authenticated,
        schema: { tags: ['directory'], summary: 'The directory settings ({} when none is set)', response: { 200: DirectoryOrNone, 403: ErrorBody } },
      },
      async (request) => (await listDirectories(db, actorOf(request)))[0] ?? {},
    );
    app.put(
      '/ds',
      {
        onRequest: authenticated,
        schema: {
          tags: ['directory'],
          summary: 'Set the directory settings (creates the directory when none is set)',
          description: 'As POST /command/ldap/update for the first directory: a password left out keeps the stored one, only where it was saved for.',
          body: NewDirectoryBody,
          response: SETTINGS_RESPONSES,
        },
      },
      async (request) => replaceOnlyDirectory(db, actorOf(request), request.body, contextOf(request)),
    );
    app.get(
      '/ds/test',
      { onRequest: authenticated, schema: { tags: ['directory'], summary: 'Test the stored directory settings', description: testDescription, response: TEST_RESPONSES } },
      async (request) => {
        const access = await directoryAccess(db);
        if (!access) throw notFound('A directory service');
        return testDirectory(db, actorOf(request), access, contextOf(request));
      },
    );
    app.put(
      '/ds/test',
      { onRequest: authenticated, schema: { tags: ['directory'], summary: 'Test directory settings without saving them', description: settingsTestDescription, body: NewDirectoryBody, response: TEST_RESPONSES } },
      async (request) => testDirectorySettings(db, actorOf(request), request.body, contextOf(request)),
    );
  };
}

export function directoryRoutesV2(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  const authenticated = requireActor(db);
  const ListResponse = { 200: Directories, 400: ErrorBody };
  const summaryNote = 'With directory_service:edit every setting (never the password); without, each directory\'s id and display_name only, as PE answers.';
  return async (app) => {
    for (const path of ['/ldap', '/ds']) {
      app.get(path, { onRequest: authenticated, schema: { tags: ['directory'], summary: 'The directory services', description: summaryNote, querystring: ListQuery({}), response: ListResponse } }, async (request) =>
        (await mayEditDirectories(db, actorOf(request))) ? listDirectories(db, actorOf(request)) : listDirectorySummaries(db),
      );
    }
    app.get(
      '/ldap/:id',
      { onRequest: authenticated, schema: { tags: ['directory'], summary: 'One directory service', description: summaryNote, params: DirectoryParams, response: { 200: DirectoryOrSummary, 404: ErrorBody } } },
      async (request) => {
        if (await mayEditDirectories(db, actorOf(request))) return readDirectory(db, actorOf(request), request.params.id);
        const summary = (await listDirectorySummaries(db)).find((directory) => directory.id === request.params.id);
        if (!summary) throw notFound('The directory');
        return summary;
      },
    );
  };
}
