import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUDIENCES, DirectoryError, IdentityError, type IdentityService, type VerifiedToken } from '../identity/types.js';
import type { HttpPlane } from '../server/plane.js';
import { createApplication, deleteApplication, getApplication, listApplications, updateApplication } from './applications.js';
import type { GraphContext, GraphHandler } from './context.js';
import { getByIds, getUser, listUsers, me } from './directory-objects.js';
import { GraphError, graphErrorOf, sendGraphError } from './errors.js';
import { passwordHandlers } from './passwords.js';
import { createServicePrincipal, deleteServicePrincipal, getServicePrincipal, listServicePrincipals } from './service-principals.js';

const ROOT = '/v1.0';
const applicationPasswords = passwordHandlers('application');
const servicePrincipalPasswords = passwordHandlers('servicePrincipal');

/** Graph's routes under /v1.0; a captured segment is an object id. Graph reads segments without regard to case. */
const ROUTES: ReadonlyArray<{ pattern: RegExp; methods: Partial<Record<string, GraphHandler>> }> = [
  { pattern: /^\/applications$/i, methods: { GET: listApplications, POST: createApplication } },
  { pattern: /^\/applications\/([^/]+)$/i, methods: { GET: getApplication, PATCH: updateApplication, DELETE: deleteApplication } },
  { pattern: /^\/applications\/([^/]+)\/addPassword$/i, methods: { POST: applicationPasswords.add } },
  { pattern: /^\/applications\/([^/]+)\/removePassword$/i, methods: { POST: applicationPasswords.remove } },
  { pattern: /^\/servicePrincipals$/i, methods: { GET: listServicePrincipals, POST: createServicePrincipal } },
  { pattern: /^\/servicePrincipals\/([^/]+)$/i, methods: { GET: getServicePrincipal, DELETE: deleteServicePrincipal } },
  { pattern: /^\/servicePrincipals\/([^/]+)\/addPassword$/i, methods: { POST: servicePrincipalPasswords.add } },
  { pattern: /^\/servicePrincipals\/([^/]+)\/removePassword$/i, methods: { POST: servicePrincipalPasswords.remove } },
  { pattern: /^\/directoryObjects\/getByIds$/i, methods: { POST: getByIds } },
  { pattern: /^\/users$/i, methods: { GET: listUsers } },
  { pattern: /^\/users\/([^/]+)$/i, methods: { GET: getUser } },
  { pattern: /^\/me(?:\/.*)?$/i, methods: { GET: me, POST: me, PATCH: me, DELETE: me } },
];

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Microsoft Graph's directory subset at /v1.0 on the main port. Every call needs a Graph token: the audience
 * `az` asks for is the server's own URL (its cloud's microsoft_graph_resource_id); Graph's public one is accepted too.
 */
export class GraphHttpPlane implements HttpPlane {
  readonly name = 'graph';
  private readonly audiences: string[];

  constructor(private readonly identity: IdentityService, private readonly publicUrl: string) {
    this.audiences = [`${publicUrl}/`, ...AUDIENCES.graph];
  }

  claims(path: string): boolean {
    return path === ROOT || path.startsWith(`${ROOT}/`);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const token = await this.authenticate(req);
      const requestUrl = req.url ?? ROOT;
      const path = requestUrl.split('?', 1)[0]!.slice(ROOT.length);
      const { handler, params } = this.route(req.method ?? 'GET', path);
      const ctx: GraphContext = {
        req, res, params,
        caller: token.principal,
        directory: this.identity.directory(token.tenantId),
        root: `${this.publicUrl}${ROOT}`,
        url: `${this.publicUrl}${requestUrl}`,
        query: new URL(requestUrl, this.publicUrl).searchParams,
      };
      await handler(ctx);
    } catch (err) {
      if (err instanceof GraphError) sendGraphError(req, res, err, err.status === 401 ? this.challenge() : {});
      else if (err instanceof DirectoryError) sendGraphError(req, res, graphErrorOf(err));
      else throw err;
    }
  }

  private async authenticate(req: IncomingMessage): Promise<VerifiedToken> {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    try {
      return await this.identity.verifyAccessToken(match[1]!, this.audiences);
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      const message = err.reason === 'expired_token' ? 'Lifetime validation failed, the token is expired.'
        : err.reason === 'wrong_audience' ? 'Access token validation failure. Invalid audience.'
        : `Access token validation failure: ${err.message}.`;
      throw new GraphError(401, 'InvalidAuthenticationToken', message);
    }
  }

  private route(method: string, path: string): { handler: GraphHandler; params: string[] } {
    for (const r of ROUTES) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      const handler = r.methods[method];
      if (!handler) throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
      return { handler, params: m.slice(1).map(decodeSegment) };
    }
    const segment = path.split('/').filter((s) => s !== '').pop() ?? '';
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${decodeSegment(segment)}'.`);
  }

  private challenge(): Record<string, string> {
    return { 'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.publicUrl}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` };
  }
}
