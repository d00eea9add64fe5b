import type { IncomingMessage, ServerResponse } from 'node:http';
import { DIRECTORY_WRITER_ROLE, type Directory, type Principal } from '../identity/types.js';
import { GraphError } from './errors.js';

/** What a Graph handler gets: the authenticated caller, its tenant's directory and the parsed request. */
export interface GraphContext {
  req: IncomingMessage;
  res: ServerResponse;
  caller: Principal;
  directory: Directory;
  /** The server's Graph root, e.g. https://localhost:8443/v1.0 */
  root: string;
  /** The request's absolute URL, as `@odata.nextLink` repeats it. */
  url: string;
  query: URLSearchParams;
  /** The path's captured segments (object ids), decoded. */
  params: string[];
}

export type GraphHandler = (ctx: GraphContext) => Promise<void>;

/** Writes to the directory need a directory role, as in Entra ID: the administrator has one, a cluster identity does not. */
export function requireDirectoryWriter(ctx: GraphContext): void {
  if (!ctx.caller.directoryRoles.includes(DIRECTORY_WRITER_ROLE)) {
    throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
}

export function odataContext(ctx: GraphContext, fragment: string): string {
  return `${ctx.root}/$metadata#${fragment}`;
}
