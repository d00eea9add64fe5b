import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { RbacService } from '../../src/rbac/rbac.js';
import { SqliteAssignmentStore } from '../../src/rbac/sqlite-assignments.js';
import { RbacError } from '../../src/rbac/types.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333';
const RG = `${SUB}/resourceGroups/rg`;
const ACR = `${RG}/providers/Microsoft.ContainerRegistry/registries/acr1`;
const P = 'aaaaaaaa-2222-3333-4444-555555555555';
const Q = 'bbbbbbbb-2222-3333-4444-555555555555';
const PULL = { action: 'Microsoft.ContainerRegistry/registries/pull/read' };

function guid(i: number): string {
  return `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

describe('RbacService over SQLite', () => {
  let dir: string;
  let file: string;
  let rbac: RbacService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-rbac-'));
    file = join(dir, 'anchorage.db');
    rbac = new RbacService(new SqliteAssignmentStore(file));
  });

  afterEach(() => {
    rbac.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds role definitions by name case-insensitively and by GUID', async () => {
    assert.deepEqual((await rbac.roleDefinitions({ roleName: 'acrpull' })).map((r) => r.name), [ROLE_IDS.acrPull]);
    assert.deepEqual((await rbac.roleDefinitions({ roleName: 'USER ACCESS ADMINISTRATOR' })).map((r) => r.roleName), ['User Access Administrator']);
    assert.deepEqual(await rbac.roleDefinitions({ roleName: 'nope' }), []);
    assert.equal((await rbac.roleDefinition(ROLE_IDS.owner.toUpperCase()))?.roleName, 'Owner');
    assert.ok((await rbac.roleDefinitions()).length >= 8);
  });

  it('creates, reads, and deletes an assignment, and the decision follows at once', async () => {
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, false);
    const a = await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    assert.equal(a.principalType, 'ServicePrincipal');
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, true);
    assert.deepEqual(await rbac.assignment(ACR.toUpperCase(), guid(1).toUpperCase()), a);
    assert.equal(await rbac.assignment(RG, guid(1)), undefined, 'an assignment is found only at its own scope');
    assert.deepEqual(await rbac.deleteAssignment(ACR, guid(1)), a);
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, false, 'the cached allow is gone');
    assert.equal(await rbac.deleteAssignment(ACR, guid(1)), undefined);
  });

  it('refuses a second assignment of the same role to the same principal at the same scope, in any letter case', async () => {
    await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    await assert.rejects(rbac.createAssignment({ name: guid(2), scope: ACR.toLowerCase(), roleDefinitionName: ROLE_IDS.acrPull, principalId: P.toUpperCase() }),
      (e: unknown) => e instanceof RbacError && e.code === 'RoleAssignmentExists' && e.status === 409 && e.message === 'The role assignment already exists.');
    // The same PUT again (same name, same content) is idempotent; the same name for something else is not.
    assert.equal((await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P })).name, guid(1));
    await assert.rejects(rbac.createAssignment({ name: guid(1), scope: RG, roleDefinitionName: ROLE_IDS.acrPull, principalId: P }),
      (e: unknown) => e instanceof RbacError && e.code === 'RoleAssignmentUpdateNotPermitted');
  });

  it('validates the name and the role', async () => {
    await assert.rejects(rbac.createAssignment({ name: 'not-a-guid', scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P }),
      (e: unknown) => e instanceof RbacError && e.code === 'InvalidRoleAssignment' && e.status === 400);
    await assert.rejects(rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: guid(9), principalId: P }),
      (e: unknown) => e instanceof RbacError && e.code === 'RoleDefinitionDoesNotExist');
  });

  it('lists at scope (with what is above) and at and below, per principal', async () => {
    await rbac.createAssignment({ name: guid(1), scope: SUB, roleDefinitionName: ROLE_IDS.owner, principalId: Q });
    await rbac.createAssignment({ name: guid(2), scope: RG, roleDefinitionName: ROLE_IDS.reader, principalId: P });
    await rbac.createAssignment({ name: guid(3), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    const names = (list: Array<{ name: string }>) => list.map((a) => a.name).sort();
    assert.deepEqual(names(await rbac.listAssignments({ scope: RG, mode: 'atScope' })), [guid(1), guid(2)]);
    assert.deepEqual(names(await rbac.listAssignments({ scope: RG, mode: 'atAndBelow' })), [guid(1), guid(2), guid(3)]);
    assert.deepEqual(names(await rbac.listAssignments({ scope: SUB, mode: 'atAndBelow', principalId: P })), [guid(2), guid(3)]);
    assert.deepEqual(names(await rbac.listAssignments({ scope: `${RG}x`, mode: 'atAndBelow' })), [guid(1)]);
  });

  it('removes assignments at or below a deleted resource, and those of a deleted principal', async () => {
    await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    await rbac.createAssignment({ name: guid(2), scope: `${ACR}2`, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    await rbac.createAssignment({ name: guid(3), scope: SUB, roleDefinitionName: ROLE_IDS.reader, principalId: Q });
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, true);
    assert.equal(await rbac.deleteAssignmentsOf({ scopePrefix: ACR.toUpperCase() }), 1);
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, false);
    assert.equal((await rbac.decide(P, PULL, `${ACR}2`)).allowed, true);
    assert.equal(await rbac.deleteAssignmentsOf({ principalId: Q }), 1);
    assert.equal((await rbac.listAssignments({ scope: '/', mode: 'atAndBelow' })).length, 1);
  });

  it('drops cached decisions when another process (another connection) changes assignments', async () => {
    const other = new RbacService(new SqliteAssignmentStore(file));
    try {
      await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
      assert.equal((await rbac.decide(P, PULL, ACR)).allowed, true);
      await other.deleteAssignment(ACR, guid(1));
      assert.equal((await rbac.decide(P, PULL, ACR)).allowed, false, 'a revocation elsewhere is seen at once');
      await other.createAssignment({ name: guid(2), scope: SUB, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
      assert.equal((await rbac.decide(P, PULL, ACR)).allowed, true);
    } finally {
      other.close();
    }
  });

  it('keeps assignments across a reopen of the database', async () => {
    await rbac.createAssignment({ name: guid(1), scope: ACR, roleDefinitionName: ROLE_IDS.acrPull, principalId: P });
    rbac.close();
    rbac = new RbacService(new SqliteAssignmentStore(file));
    assert.equal((await rbac.decide(P, PULL, ACR)).allowed, true);
  });
});
