// The OpenAPI 3.1 document of the admin API, generated from the route table and its zod schemas
// (OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what `z.toJSONSchema` emits).
import { z } from 'zod';
import { describeMatrix } from '../governance/roles.ts';
import type { AdminRoute } from './routes.ts';
import { responseComponents } from './schemas.ts';

type Json = Record<string, unknown>;

const COMPONENT_REF = (id: string): string => `#/components/schemas/${id}`;

const ERROR_RESPONSES: ReadonlyArray<[status: string, description: string]> = [
  ['400', 'Invalid request: `error.param` names the field'],
  ['401', 'Missing, unknown, revoked or expired key'],
  ['403', 'The key may not do this (inference-scope keys may not use the admin API at all)'],
  ['404', 'No such object in the caller’s organisation'],
  ['409', 'Conflict: duplicate name or email, a declared object, a key not in a state that allows it'],
];

/** Drops what a component or inline schema must not carry inside an OpenAPI document. */
function clean(schema: unknown): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema as Json;
  return rest;
}

/** Date-time strings keep `format` and lose zod's long regular expression. */
const override = (ctx: { jsonSchema: unknown }): void => {
  const json = ctx.jsonSchema as Json;
  if (json.format === 'date-time') delete json.pattern;
};

function pascal(operationId: string): string {
  return operationId.charAt(0).toUpperCase() + operationId.slice(1);
}

export function buildOpenApiDocument(routes: readonly AdminRoute[], version: string): Json {
  const requests = z.registry<{ id: string }>();
  for (const route of routes) if (route.body && !requests.has(route.body)) requests.add(route.body, { id: `${pascal(route.operationId)}Request` });

  const responseSchemas = z.toJSONSchema(responseComponents, { uri: COMPONENT_REF, io: 'output', override }).schemas;
  const requestSchemas = z.toJSONSchema(requests, { uri: COMPONENT_REF, io: 'input', override }).schemas;
  const schemas: Json = {};
  for (const [id, schema] of Object.entries({ ...responseSchemas, ...requestSchemas })) schemas[id] = clean(schema);

  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const operation: Json = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description !== undefined && { description: route.description }),
      tags: [route.tag],
      'x-permissions': [...route.access],
      parameters: [...pathParameters(route.path), ...queryParameters(route.query)],
      responses: responses(route),
    };
    if (route.access.includes('public')) operation.security = [];
    if (route.body) {
      const id = requests.get(route.body)?.id;
      operation.requestBody = { required: true, content: { 'application/json': { schema: { $ref: COMPONENT_REF(id ?? '') } } } };
    }
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchyard admin API',
      version,
      description:
        'Organisations, teams, users, virtual keys, budgets and the audit log. Authenticate with the master key or an ' +
        'admin-scope virtual key as `Authorization: Bearer <key>`; inference-scope keys are refused (403). Every call is ' +
        'checked against the permission matrix below (`x-permissions` on each operation lists the permissions that can ' +
        'grant it; the reach of the caller’s seat over the object decides).\n\n' +
        describeMatrix(),
    },
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The master key or an admin-scope virtual key' } },
      schemas,
      responses: Object.fromEntries(
        ERROR_RESPONSES.map(([status, description]) => [
          `Error${status}`,
          { description, content: { 'application/json': { schema: { $ref: COMPONENT_REF('Error') } } } },
        ]),
      ),
    },
  };
}

function pathParameters(path: string): Json[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
}

function queryParameters(query: z.ZodType): Json[] {
  const json = clean(z.toJSONSchema(query, { io: 'input', override }));
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: required.has(name), ...(description !== undefined && { description }), schema: rest };
  });
}

function responses(route: AdminRoute): Json {
  const id = responseComponents.get(route.response)?.id;
  const schema = id ? { $ref: COMPONENT_REF(id) } : clean(z.toJSONSchema(route.response, { io: 'output', override }));
  const out: Json = { [String(route.status)]: { description: route.summary, content: { 'application/json': { schema } } } };
  const errors = route.access.includes('public') ? [] : ERROR_RESPONSES;
  for (const [status] of errors) out[status] = { $ref: `#/components/responses/Error${status}` };
  return out;
}
