import type { IncomingMessage } from 'node:http';
import { readJsonObjectBody, RequestBodyNotJsonObject, RequestBodyStalled, RequestBodyTooLarge } from '../server/request-body.js';
import { badRequest, GraphError } from './errors.js';
import { GUID } from '../guid.js';

const JSON_LIMIT = 256 * 1024;

export type JsonObject = Record<string, unknown>;

/** The JSON object a write sends; an empty body is an empty object (addPassword may be sent without one). */
export async function readJsonObject(req: IncomingMessage): Promise<JsonObject> {
  try {
    return await readJsonObjectBody(req, JSON_LIMIT);
  } catch (err) {
    if (err instanceof RequestBodyTooLarge) throw new GraphError(413, 'Request_EntityTooLarge', err.message);
    if (err instanceof RequestBodyStalled) throw new GraphError(408, 'RequestTimeout', err.message);
    if (err instanceof RequestBodyNotJsonObject) {
      throw new GraphError(400, 'BadRequest', err.isJson ? 'The request payload must be a JSON object.'
        : 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    }
    throw err;
  }
}

function invalidValue(property: string, resource: string): GraphError {
  return badRequest(`Invalid value specified for property '${property}' of resource '${resource}'.`);
}

export function optionalString(body: JsonObject, property: string, resource: string): string | undefined {
  const value = body[property];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidValue(property, resource);
  return value;
}

export function requiredString(body: JsonObject, property: string, resource: string): string {
  const value = optionalString(body, property, resource);
  if (value === undefined) throw badRequest(`Property '${property}' is required on resource '${resource}'.`);
  return value;
}

export function optionalNullableString(body: JsonObject, property: string, resource: string): string | null | undefined {
  return body[property] === null ? null : optionalString(body, property, resource);
}

export function optionalStringArray(body: JsonObject, property: string, resource: string): string[] | undefined {
  const value = body[property];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw invalidValue(property, resource);
  return value;
}

export function optionalBoolean(body: JsonObject, property: string, resource: string): boolean | undefined {
  const value = body[property];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidValue(property, resource);
  return value;
}

export function optionalObject(body: JsonObject, property: string, resource: string): JsonObject | undefined {
  const value = body[property];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidValue(property, resource);
  return value as JsonObject;
}

/** Object ids are GUIDs; anything else is Graph's "Invalid object identifier". */
export function objectId(id: string): string {
  if (!GUID.test(id)) throw badRequest(`Invalid object identifier '${id}'.`);
  return id;
}
