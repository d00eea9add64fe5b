import type { IncomingMessage } from 'node:http';
import { AUDIENCES, IdentityError, type IdentityService, type Principal } from '../../identity/types.js';
import { ArmError } from '../errors.js';

/**
 * Who is calling: the principal of an identity-plane access token for the resource manager. Refusals are
 * 401s in ARM's words, with the `WWW-Authenticate: Bearer authorization_uri=..., error="invalid_token"`
 * challenge ARM sends, naming the authority to get a token from.
 */
export async function authenticate(req: IncomingMessage, identity: IdentityService, publicUrl: string): Promise<Principal> {
  const refuse = (code: string, message: string, description: string): ArmError => new ArmError(401, code, message, undefined, {
    'WWW-Authenticate': `Bearer authorization_uri="${publicUrl}/${identity.defaultTenantId}", error="invalid_token", error_description="${description}"`,
  });
  const header = req.headers.authorization;
  if (header === undefined) {
    throw refuse('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.",
      "The authentication failed because of missing 'Authorization' header.");
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) {
    throw refuse('AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      "The authentication failed because of malformed 'Authorization' header.");
  }
  const audiences = [...AUDIENCES.arm, `${publicUrl}/`, publicUrl];
  try {
    return (await identity.verifyAccessToken(m[1]!, audiences)).principal;
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    switch (err.reason) {
      case 'expired_token':
        throw refuse('ExpiredAuthenticationToken', `The access token expiry UTC time has passed: ${err.message}`, 'The access token has expired.');
      case 'wrong_audience':
        throw refuse('InvalidAuthenticationTokenAudience',
          `The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences ${audiences.map((a) => `'${a}'`).join(',')}.`,
          'The access token has an audience this resource manager does not accept.');
      default:
        throw refuse('InvalidAuthenticationToken', `The access token is invalid. ${err.message}`, 'The access token is invalid.');
    }
  }
}
