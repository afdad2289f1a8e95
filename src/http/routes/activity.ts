// PE's activity service API (/activity-api): the audit trail in PE's shapes,
// for audit scripts and the vendor's client (src/activity/).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { activityV1, activityV1Csv, activityV2, activityV2Csv } from '../../activity/activity.js';
import type { Services } from '../../services.js';
import { ActivityCsvV1, ActivityCsvV2, ActivityPageV1, ActivityPageV2, ActivityQueryV1, ActivityQueryV2, ErrorBody } from '../../shapes.js';
import { stringifyInSlices } from '../../event-loop.js';
import { actorOf, requireActor } from '../auth.js';

export const ACTIVITY_PREFIX = '/activity-api';

const CSV_TYPE = 'text/csv; charset=utf-8';
// A page of 1,000 commits is turned to JSON a slice at a time (src/event-loop.ts), not in one
// go by the response schema's serializer: one request does not hold the event loop (CONTRACT §7).
// The pages are built in their shapes exactly (src/activity/), so the text is the same.
const JSON_TYPE = 'application/json; charset=utf-8';
/** A page's JSON text where the route's types expect the page (the schema still documents it). */
const asPage = <Page>(text: string) => text as unknown as Page;
const ERRORS = { 400: ErrorBody, 401: ErrorBody } as const;
const WHO = 'Superusers (api_user among them) read every event; any other user the events about themselves.';

export function activityRoutes(services: Services): FastifyPluginAsyncTypebox {
  const { db } = services.store;
  return async (app) => {
    app.get(
      '/v1/events',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['activity'],
          summary: "RBAC's security events in PE's activity service shape, newest first",
          description: `One event per commit. ${WHO}`,
          querystring: ActivityQueryV1,
          response: { 200: ActivityPageV1, ...ERRORS },
        },
      },
      async (request, reply) => reply.type(JSON_TYPE).serializer(String).send(asPage<ActivityPageV1>(await stringifyInSlices(await activityV1(db, actorOf(request), request.query), 'commits'))),
    );

    app.get(
      '/v1/events.csv',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['activity'],
          summary: "RBAC's security events as PE's CSV, one row per event",
          description: `The parameters of GET /activity-api/v1/events. ${WHO}`,
          querystring: ActivityQueryV1,
          response: { 200: { description: 'the events as CSV', content: { 'text/csv': { schema: ActivityCsvV1 } } }, ...ERRORS },
        },
      },
      async (request, reply) => reply.type(CSV_TYPE).serializer(String).send(await activityV1Csv(db, actorOf(request), request.query)),
    );

    app.get(
      '/v2/events',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['activity'],
          summary: "RBAC's security events in PE's v2 activity shape, with PE's query array of filters",
          description: `One event per commit; objects lists everything the event is about. ${WHO}`,
          querystring: ActivityQueryV2,
          response: { 200: ActivityPageV2, ...ERRORS },
        },
      },
      async (request, reply) => reply.type(JSON_TYPE).serializer(String).send(asPage<ActivityPageV2>(await stringifyInSlices(await activityV2(db, actorOf(request), request.query), 'commits'))),
    );

    app.get(
      '/v2/events.csv',
      {
        onRequest: requireActor(db),
        schema: {
          tags: ['activity'],
          summary: "RBAC's security events as PE's v2 CSV (v1's columns and the address)",
          description: `The parameters of GET /activity-api/v2/events. ${WHO}`,
          querystring: ActivityQueryV2,
          response: { 200: { description: 'the events as CSV', content: { 'text/csv': { schema: ActivityCsvV2 } } }, ...ERRORS },
        },
      },
      async (request, reply) => reply.type(CSV_TYPE).serializer(String).send(await activityV2Csv(db, actorOf(request), request.query)),
    );
  };
}
