import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmError } from '../../src/arm/errors.js';
import { parseFilter } from '../../src/arm/odata-filter.js';

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
