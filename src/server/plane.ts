import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A plane's HTTP face on the main port (identity, Graph, resource manager). The server asks each in turn
 * whether a path is its own; the first that claims it serves the request and writes errors in its protocol's format.
 */
export interface HttpPlane {
  readonly name: string;
  claims(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
