import { normalizeScope } from '../../rbac/scopes.js';
import type { ResourceManager } from '../resource-manager.js';
import { created, deleted, ok, propertiesOf, type ArmCall, type ArmRoute } from './route.js';
import { listView, roleAssignmentView, roleDefinitionView } from './views.js';

/** Everything before the last `/providers/Microsoft.Authorization/`: the scope the call is made at ("" is the root). */
const AT_SCOPE = '(.*)/providers/Microsoft\\.Authorization';
const ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';

/**
 * `Microsoft.Authorization/roleDefinitions` and `roleAssignments`, at any scope and by full id. Writing or
 * deleting an assignment takes `roleAssignments/write|delete` at its scope (Owner, User Access
 * Administrator); reading takes `roleAssignments/read`. Built-in role definitions are readable by any
 * authenticated caller, as Azure's are.
 */
export function authorizationRoutes(arm: ResourceManager): ArmRoute[] {
  const { roleAssignments } = arm;
  const scopeOf = (call: ArmCall): string => normalizeScope(call.params[0] || '/');

  return [
    {
      path: new RegExp(`^${AT_SCOPE}/roleDefinitions$`, 'i'),
      methods: {
        GET: async (call) => {
          const scope = scopeOf(call);
          return ok(listView((await roleAssignments.roleDefinitions(call.query.get('$filter'))).map((r) => roleDefinitionView(scope, r))));
        },
      },
    },
    {
      path: new RegExp(`^${AT_SCOPE}/roleDefinitions/([^/]+)$`, 'i'),
      methods: { GET: async (call) => ok(roleDefinitionView(scopeOf(call), await roleAssignments.roleDefinition(call.params[1]!))) },
    },
    {
      path: new RegExp(`^${AT_SCOPE}/roleAssignments$`, 'i'),
      methods: {
        GET: async (call) => {
          const scope = scopeOf(call);
          await call.authorize(`${ASSIGNMENTS}/read`, scope);
          return ok(listView((await roleAssignments.list(scope, call.query.get('$filter'))).map(roleAssignmentView)));
        },
      },
    },
    {
      path: new RegExp(`^${AT_SCOPE}/roleAssignments/([^/]+)$`, 'i'),
      methods: {
        GET: async (call) => {
          const scope = scopeOf(call);
          await call.authorize(`${ASSIGNMENTS}/read`, scope);
          return ok(roleAssignmentView(await roleAssignments.get(scope, call.params[1]!)));
        },
        PUT: async (call) => {
          const scope = scopeOf(call);
          await call.authorize(`${ASSIGNMENTS}/write`, scope);
          const body = await call.body();
          const p = propertiesOf(body);
          const assignment = await roleAssignments.create(scope, call.params[1]!, p, call.caller.objectId);
          return created(roleAssignmentView(assignment));
        },
        DELETE: async (call) => {
          const scope = scopeOf(call);
          await call.authorize(`${ASSIGNMENTS}/delete`, scope);
          const removed = await roleAssignments.delete(scope, call.params[1]!);
          return removed ? ok(roleAssignmentView(removed)) : deleted(false);
        },
      },
    },
  ];
}
