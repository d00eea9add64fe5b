import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmError } from '../../src/arm/errors.js';
import { onlyClauses, parseFilter } from '../../src/arm/odata-filter.js';

describe('parseFilter', () => {
  it('reads the clauses az and the SDKs send', () => {
    assert.deepEqual(parseFilter("roleName eq 'acrpull'"), [{ field: 'rolename', value: 'acrpull' }]);
    assert.deepEqual(parseFilter('atScope()'), [{ fn: 'atscope' }]);
    assert.deepEqual(parseFilter("atScope() and assignedTo('abc')"), [{ fn: 'atscope' }, { fn: 'assignedto', arg: 'abc' }]);
    assert.deepEqual(parseFilter("resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq 'it''s'"),
      [{ field: 'resourcetype', value: 'Microsoft.ContainerRegistry/registries' }, { field: 'name', value: "it's" }]);
    assert.deepEqual(parseFilter(null), []);
  });

  it('refuses what it cannot read with 400 InvalidFilterInQueryString', () => {
    for (const bad of ["roleName ne 'x'", "roleName eq 'x' or name eq 'y'", "roleName eq 'x", 'atScope() and']) {
      assert.throws(() => parseFilter(bad), (e: unknown) => e instanceof ArmError && e.status === 400 && e.code === 'InvalidFilterInQueryString', bad);
    }
  });
});

describe('onlyClauses', () => {
  const fns = { atscope: 'none', assignedto: 'argument' } as const;
  const check = (filter: string) => () => onlyClauses(parseFilter(filter), { fields: ['principalid'], fns }, filter);

  it('takes the fields and functions allowed, each function with an argument when it needs one and only then', () => {
    for (const good of ["atScope() and assignedTo('abc')", "principalId eq 'x'", 'atScope()']) assert.doesNotThrow(check(good), good);
  });

  it('refuses other fields, other functions, and arguments missing or extra', () => {
    for (const bad of ['assignedTo()', "assignedTo('')", "atScope('x')", "roleName eq 'x'", 'nope()', 'constructor()']) {
      assert.throws(check(bad), (e: unknown) => e instanceof ArmError && e.status === 400 && e.code === 'InvalidFilterInQueryString', bad);
    }
  });
});
