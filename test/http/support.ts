// What the HTTP tests share: the routes the app really has, read from
// Fastify itself (not a list kept by hand), so a new route is covered by the
// tests that walk them the moment it is registered.

import type { FastifyInstance } from 'fastify';

export interface RegisteredRoute {
  method: string;
  /** Fastify's pattern: `/rbac-api/v1/users/:sid`, `/rbac-api/v1/docs/static/*`. */
  path: string;
  /** Its path parameters in order (`*` for a wildcard). */
  params: string[];
}

/** Every route Fastify has, method by method, read from printRoutes (independent of @fastify/swagger). */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = `${depth === 0 ? '' : stack[depth - 1]}${match[2]}`;
    stack[depth] = path;
    stack.length = depth + 1;
    const params = [...path.matchAll(/:(\w+)|\*/g)].map((param) => param[1] ?? '*');
    for (const method of (match[3] ?? '').split(',').map((text) => text.trim()).filter(Boolean)) routes.push({ method, path, params });
  }
  return routes;
}

/** `METHOD /path/{param}`, the OpenAPI spelling of a route. */
export const openApiName = (route: RegisteredRoute): string => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`;
