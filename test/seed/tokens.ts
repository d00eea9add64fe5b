import { readFileSync } from 'node:fs';
import { httpsFetch } from '../helpers/cli.js';
import type { SeedEnvironment } from './environment.js';

/**
 * A client-credentials token request for the resource manager, as `az login --service-principal` sends it:
 * the status, and for a refusal Entra ID's error and its AADSTS code.
 */
export async function tokenRequest(env: SeedEnvironment, appId: string, secret: string): Promise<{ status: number; error?: string }> {
  const body = new URLSearchParams({ client_id: appId, client_secret: secret, grant_type: 'client_credentials', scope: 'https://management.core.windows.net//.default' });
  const r = await httpsFetch(`${env.config.publicUrl}/${env.info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST', ca: readFileSync(env.caPath, 'utf8'), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(body.toString()),
  });
  if (r.status === 200) return { status: 200 };
  const json = JSON.parse(r.body.toString('utf8')) as { error: string; error_codes?: number[] };
  return { status: r.status, error: `${json.error} AADSTS${json.error_codes?.[0]}` };
}

/** A wrong or revoked secret, as Entra ID answers it. */
export const INVALID_SECRET = { status: 401, error: 'invalid_client AADSTS7000215' };
export const OK = { status: 200 };
