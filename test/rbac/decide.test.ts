import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_ROLES, ROLE_IDS } from '../../src/rbac/builtin-roles.js';
import { decideFrom } from '../../src/rbac/decide.js';
import { matchesPattern } from '../../src/rbac/permissions.js';
import type { RoleAssignment, RoleDefinition } from '../../src/rbac/types.js';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333';
const RG = `${SUB}/resourceGroups/myResourceGroup`;
const ACR = `${RG}/providers/Microsoft.ContainerRegistry/registries/myregistry`;
const OTHER_ACR = `${RG}/providers/Microsoft.ContainerRegistry/registries/myregistry2`;
const P = '11111111-2222-3333-4444-555555555555';
const PULL = { action: 'Microsoft.ContainerRegistry/registries/pull/read' };
const PUSH = { action: 'Microsoft.ContainerRegistry/registries/push/write' };

const roles = new Map<string, RoleDefinition>(BUILTIN_ROLES.map((r) => [r.name, r]));
const roleOf = (name: string) => roles.get(name);

let n = 0;
function assign(role: string, scope: string, principalId = P): RoleAssignment {
  n++;
  return {
    name: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, scope, roleDefinitionName: role, principalId,
    principalType: 'ServicePrincipal', description: null, createdOn: '', updatedOn: '', createdBy: null,
  };
}

describe('matchesPattern', () => {
  it('treats * as any run of characters, case-insensitively', () => {
    assert.equal(matchesPattern('*', 'Microsoft.Authorization/roleAssignments/write'), true);
    assert.equal(matchesPattern('*/read', 'Microsoft.ContainerRegistry/registries/read'), true);
    assert.equal(matchesPattern('*/read', 'Microsoft.ContainerRegistry/registries/write'), false);
    assert.equal(matchesPattern('Microsoft.Authorization/*', 'microsoft.authorization/roleassignments/delete'), true);
    assert.equal(matchesPattern('Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/write'), true);
    assert.equal(matchesPattern('Microsoft.Authorization/*', 'Microsoft.AuthorizationX/foo'), false);
    assert.equal(matchesPattern('Microsoft.ContainerRegistry/registries/pull/read', 'MICROSOFT.CONTAINERREGISTRY/REGISTRIES/PULL/READ'), true);
  });

  it('takes dots and other regex characters literally', () => {
    assert.equal(matchesPattern('Microsoft.Support/*', 'MicrosoftXSupport/tickets/read'), false);
  });
});

describe('decideFrom', () => {
  it('allows through an assignment at the scope and names it', () => {
    const a = assign(ROLE_IDS.acrPull, ACR);
    const d = decideFrom(P, PULL, ACR, [a], roleOf);
    assert.equal(d.allowed, true);
    assert.equal(d.grantedBy?.assignment, a);
    assert.match(d.reason, /role AcrPull assigned at .*registries\/myregistry \(assignment 00000000-/);
  });

  it('inherits from subscription and resource group down to the resource, segment by segment', () => {
    assert.equal(decideFrom(P, PULL, ACR, [assign(ROLE_IDS.acrPull, SUB)], roleOf).allowed, true);
    assert.equal(decideFrom(P, PULL, ACR, [assign(ROLE_IDS.acrPull, RG)], roleOf).allowed, true);
    assert.equal(decideFrom(P, PULL, ACR, [assign(ROLE_IDS.acrPull, '/')], roleOf).allowed, true);
    // Not upwards, and not to a sibling whose name merely starts the same.
    assert.equal(decideFrom(P, PULL, RG, [assign(ROLE_IDS.acrPull, ACR)], roleOf).allowed, false);
    assert.equal(decideFrom(P, PULL, OTHER_ACR, [assign(ROLE_IDS.acrPull, ACR)], roleOf).allowed, false);
  });

  it('compares scopes case-insensitively and ignores stray slashes', () => {
    const a = assign(ROLE_IDS.acrPull, ACR.toLowerCase());
    assert.equal(decideFrom(P, PULL, `${ACR.toUpperCase()}/`, [a], roleOf).allowed, true);
    assert.equal(decideFrom(P.toUpperCase(), PULL, ACR.replace('/subscriptions/', '//subscriptions//'), [a], roleOf).allowed, true);
  });

  it('only counts the principal\'s own assignments', () => {
    const d = decideFrom(P, PULL, ACR, [assign(ROLE_IDS.owner, SUB, '99999999-2222-3333-4444-555555555555')], roleOf);
    assert.equal(d.allowed, false);
    assert.deepEqual(d.applicable, []);
    assert.match(d.reason, /no assignments apply there$/);
  });

  it('AcrPull pulls but cannot push; AcrPush does both', () => {
    assert.equal(decideFrom(P, PUSH, ACR, [assign(ROLE_IDS.acrPull, ACR)], roleOf).allowed, false);
    const push = [assign(ROLE_IDS.acrPush, ACR)];
    assert.equal(decideFrom(P, PUSH, ACR, push, roleOf).allowed, true);
    assert.equal(decideFrom(P, PULL, ACR, push, roleOf).allowed, true);
  });

  it('applies notActions: Contributor may write registries but not role assignments', () => {
    const c = [assign(ROLE_IDS.contributor, SUB)];
    assert.equal(decideFrom(P, { action: 'Microsoft.ContainerRegistry/registries/write' }, ACR, c, roleOf).allowed, true);
    const d = decideFrom(P, { action: 'Microsoft.Authorization/roleAssignments/write' }, ACR, c, roleOf);
    assert.equal(d.allowed, false);
    assert.match(d.reason, /Contributor at \/subscriptions\/[^ ]+ excludes it by notActions 'Microsoft.Authorization\/\*\/Write'/);
    assert.equal(decideFrom(P, { action: 'Microsoft.Authorization/roleAssignments/read' }, ACR, c, roleOf).allowed, true);
  });

  it('User Access Administrator writes role assignments; Reader only reads, pull/read included', () => {
    const uaa = [assign(ROLE_IDS.userAccessAdministrator, RG)];
    assert.equal(decideFrom(P, { action: 'Microsoft.Authorization/roleAssignments/write' }, ACR, uaa, roleOf).allowed, true);
    assert.equal(decideFrom(P, { action: 'Microsoft.ContainerRegistry/registries/write' }, ACR, uaa, roleOf).allowed, false);
    const reader = [assign(ROLE_IDS.reader, RG)];
    assert.equal(decideFrom(P, { action: 'Microsoft.ContainerRegistry/registries/read' }, ACR, reader, roleOf).allowed, true);
    assert.equal(decideFrom(P, { action: 'Microsoft.Authorization/roleAssignments/write' }, ACR, reader, roleOf).allowed, false);
    // ACR's roles table: Reader can pull (its */read matches registries/pull/read), not push.
    assert.equal(decideFrom(P, PULL, ACR, reader, roleOf).allowed, true);
    assert.equal(decideFrom(P, PUSH, ACR, reader, roleOf).allowed, false);
  });

  it('matches data actions only against dataActions: Owner\'s * grants none', () => {
    const trusted = { dataAction: 'Microsoft.ContainerRegistry/registries/trustedCollections/write' };
    assert.equal(decideFrom(P, trusted, ACR, [assign(ROLE_IDS.owner, SUB)], roleOf).allowed, false);
    assert.equal(decideFrom(P, trusted, ACR, [assign(ROLE_IDS.acrImageSigner, ACR)], roleOf).allowed, true);
    // ...and an action of the same name is not granted by a dataAction.
    assert.equal(decideFrom(P, { action: trusted.dataAction }, ACR, [assign(ROLE_IDS.acrImageSigner, ACR)], roleOf).allowed, false);
  });

  it('says what was missing and which assignments apply', () => {
    const d = decideFrom(P, PUSH, ACR, [assign(ROLE_IDS.reader, SUB), assign(ROLE_IDS.acrPull, ACR)], roleOf);
    assert.equal(d.allowed, false);
    assert.equal(d.reason, `principal ${P} has no role assignment granting action Microsoft.ContainerRegistry/registries/push/write at ${ACR}; `
      + `assignments that apply: AcrPull at ${ACR}, Reader at ${SUB}`);
    assert.deepEqual(d.applicable.map((e) => e.role.roleName), ['AcrPull', 'Reader']);
  });

  it('names the nearest granting assignment when several grant', () => {
    const d = decideFrom(P, PULL, ACR, [assign(ROLE_IDS.owner, SUB), assign(ROLE_IDS.acrPull, ACR)], roleOf);
    assert.equal(d.grantedBy?.role.roleName, 'AcrPull');
  });
});

describe('BUILTIN_ROLES', () => {
  it('carry the real GUIDs and unique names', () => {
    const byName = Object.fromEntries(BUILTIN_ROLES.map((r) => [r.roleName, r.name]));
    assert.equal(byName['AcrPull'], '7f951dda-4ed3-4680-a7ca-43fe172d538d');
    assert.equal(byName['Owner'], '8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    assert.equal(byName['User Access Administrator'], '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9');
    assert.equal(new Set(BUILTIN_ROLES.map((r) => r.name)).size, BUILTIN_ROLES.length);
    assert.equal(new Set(BUILTIN_ROLES.map((r) => r.roleName.toLowerCase())).size, BUILTIN_ROLES.length);
  });
});
