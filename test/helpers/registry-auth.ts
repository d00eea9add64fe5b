import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import type { RegistryRecord } from '../../src/registry/metadata.js';
import type { Anchorage } from '../../src/server/anchorage.js';
import { postForm } from './identity.js';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The username that says "the password is a registry refresh token". */
export const NULL_GUID = '00000000-0000-0000-0000-000000000000';

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** A registry placed in a subscription and resource group, as the resource manager creates one: RBAC decides at its id. */
export async function createPlacedRegistry(app: Anchorage, name: string, scheme: 'http' | 'https' = 'http'): Promise<{ registry: RegistryRecord; url: string }> {
  const resourceId = `/subscriptions/${randomUUID()}/resourceGroups/rg-${name}/providers/Microsoft.ContainerRegistry/registries/${name}`;
  const registry = await app.registries.create(name, { resourceId });
  const url = `${scheme}://${registry.loginServer}`;
  // The server starts serving a new registry on its next reconcile: wait until its port accepts connections.
  for (const deadline = Date.now() + 10_000; ;) {
    const listening = await new Promise<boolean>((resolve) => {
      const socket = connect(registry.port!, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (listening) break;
    assert.ok(Date.now() < deadline, `registry ${name} never answered`);
    await sleep(100);
  }
  return { registry, url };
}

export type RoleName = keyof typeof ROLE_IDS;

/** Assigns a built-in role to a principal at a scope; returns the assignment's name, to delete it. */
export async function assignRole(app: Anchorage, principalId: string, role: RoleName, scope: string): Promise<string> {
  const name = randomUUID();
  await app.rbac.createAssignment({ name, scope, roleDefinitionName: ROLE_IDS[role], principalId, principalType: 'ServicePrincipal' });
  return name;
}

/** The JSON payload of a JWT, unverified. */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** An access token from the registry's `/oauth2/token` (POST form); fails the test unless it is issued. */
export async function registryToken(url: string, form: Record<string, string>): Promise<string> {
  const { status, body } = await postForm(`${url}/oauth2/token`, { service: new URL(url).host, ...form });
  assert.equal(status, 200, JSON.stringify(body));
  return body['access_token'] as string;
}
