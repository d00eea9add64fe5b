import { DIRECTORY_WRITER_ROLE, type NewPassword, type Principal } from '../../src/identity/types.js';
import type { Anchorage } from '../../src/server/anchorage.js';

export interface TestPrincipal {
  principal: Principal;
  password: NewPassword;
}

/** A service principal with the directory role Graph writes need (what the first start's administrator has). */
export function createAdministrator(app: Anchorage, displayName = 'test-admin'): Promise<TestPrincipal> {
  return app.identity.createServicePrincipal({ displayName, directoryRoles: [DIRECTORY_WRITER_ROLE] });
}

/** A service principal without directory roles, as a cluster's identity is. */
export function createClusterIdentity(app: Anchorage, displayName = 'test-cluster'): Promise<TestPrincipal> {
  return app.identity.createServicePrincipal({ displayName });
}

/**
 * POSTs an application/x-www-form-urlencoded body to a token endpoint (the identity plane's or a registry's; pairs
 * when a parameter repeats) and returns the status, the JSON answer and the headers.
 */
export async function postForm(url: string, form: Array<[string, string]> | Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** A v2 client-credentials access token for `resource` (e.g. the server's Graph URL with its trailing slash). */
export async function accessToken(publicUrl: string, tenantId: string, who: TestPrincipal, resource: string): Promise<string> {
  const { status, body } = await postForm(`${publicUrl}/${tenantId}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials', client_id: who.principal.appId, client_secret: who.password.secretText, scope: `${resource}/.default`,
  });
  if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
  return body['access_token'] as string;
}
