import type { Principal } from '../../identity/types.js';
import { invalidRequestContent } from '../errors.js';

/** One ARM request, as a handler sees it: the path's captured names, the query, the caller, and its checks. */
export interface ArmCall {
  method: string;
  /** The route pattern's capture groups, decoded. */
  params: string[];
  query: URLSearchParams;
  caller: Principal;
  /** The JSON object body; a missing body is `{}`, anything but an object is 400 InvalidRequestContent. */
  body(): Promise<Record<string, unknown>>;
  /** Throws 403 AuthorizationFailed unless RBAC allows the caller the action at the scope. */
  authorize(action: string, scope: string): Promise<void>;
  /** The same decision, as a yes or no, for filtering lists. */
  can(action: string, scope: string): Promise<boolean>;
}

export interface ArmResult {
  status: number;
  body?: unknown;
}

export type ArmHandler = (call: ArmCall) => Promise<ArmResult>;

export interface ArmRoute {
  /** Matched against the normalised path, case-insensitively. */
  path: RegExp;
  methods: Partial<Record<'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', ArmHandler>>;
}

export const ok = (body?: unknown): ArmResult => ({ status: 200, body });
export const created = (body: unknown): ArmResult => ({ status: 201, body });
/** ARM's DELETE answers: 200 when something was deleted, 204 when there was nothing to delete. */
export const deleted = (found: boolean): ArmResult => ({ status: found ? 200 : 204 });

/** A body's `properties`: absent is none, anything but an object is a 400 rather than quietly none. */
export function propertiesOf(body: Record<string, unknown>): Record<string, unknown> {
  const p = body['properties'];
  if (p === undefined || p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw invalidRequestContent('properties must be a JSON object');
  return p as Record<string, unknown>;
}
