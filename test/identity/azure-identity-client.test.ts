import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AUDIENCES } from '../../src/identity/types.js';
import { createClusterIdentity, type TestPrincipal } from '../helpers/identity.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Microsoft's own Node client, unmodified: `ClientSecretCredential` with `authorityHost` at the server. It runs in a
 * child process because Node reads NODE_EXTRA_CA_CERTS (the local CA) only at start-up.
 */
const CLIENT = `
const { ClientSecretCredential } = await import(process.env.IDENTITY_MODULE);
const credential = new ClientSecretCredential(process.env.TENANT_ID, process.env.CLIENT_ID, process.env.CLIENT_SECRET,
  { authorityHost: process.env.AUTHORITY_HOST, disableInstanceDiscovery: true });
try {
  const token = await credential.getToken(process.env.SCOPE);
  console.log(JSON.stringify({ token: token.token, expiresOnTimestamp: token.expiresOnTimestamp }));
} catch (err) {
  console.log(JSON.stringify({ error: err.name, message: err.message }));
}`;

const identityModule = pathToFileURL(createRequire(import.meta.url).resolve('@azure/identity')).href;

function runClient(env: Record<string, string>): Promise<{ token?: string; expiresOnTimestamp?: number; error?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CLIENT], { env: { ...process.env, IDENTITY_MODULE: identityModule, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      });
  });
}

describe('@azure/identity ClientSecretCredential against the identity plane (HTTPS)', () => {
  let server: TestServer;
  let client: TestPrincipal;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer({ tls: true });
    client = await createClusterIdentity(server.app, 'sdk-client');
    env = {
      NODE_EXTRA_CA_CERTS: server.caPath!,
      AUTHORITY_HOST: server.config.publicUrl,
      TENANT_ID: server.app.identity.defaultTenantId,
      CLIENT_ID: client.principal.appId,
      CLIENT_SECRET: client.password.secretText,
      SCOPE: 'https://management.azure.com/.default',
    };
  });
  after(() => server.close());

  it('gets a resource-manager token that the server verifies', async () => {
    const result = await runClient(env);
    assert.ok(result.token, JSON.stringify(result));
    assert.ok(result.expiresOnTimestamp! > Date.now());
    const verified = await server.app.identity.verifyAccessToken(result.token, AUDIENCES.arm);
    assert.equal(verified.principal.appId, client.principal.appId);
    assert.equal(verified.audience, 'https://management.azure.com');
  });

  it('reports a wrong secret with Entra ID\'s AADSTS7000215', async () => {
    const result = await runClient({ ...env, CLIENT_SECRET: 'not-the-secret' });
    // What the SDK makes of any error answer from the token endpoint (MSAL's ServerError), real Entra ID's included.
    assert.equal(result.error, 'AuthenticationRequiredError', JSON.stringify(result));
    assert.match(result.message!, /AADSTS7000215/);
  });
});
