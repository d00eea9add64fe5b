import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudMetadata } from '../../src/arm/cloud-metadata.js';

const INPUT = { publicUrl: 'https://localhost:8443', registryDomain: undefined };

describe('cloudMetadata', () => {
  it('answers 2019-05-01 and later with the array azure-cli maps (ARM_CLOUD_METADATA_URL)', () => {
    const [cloud] = cloudMetadata('2019-05-01', { ...INPUT, registryDomain: 'registry.example' }) as any[];
    assert.equal(cloud.name, 'Anchorage');
    assert.equal(cloud.resourceManager, 'https://localhost:8443/');
    assert.equal(cloud.microsoftGraphResourceId, 'https://localhost:8443/');
    assert.equal(cloud.graphAudience, 'https://localhost:8443/');
    assert.equal(cloud.authentication.loginEndpoint, 'https://localhost:8443/adfs');
    assert.equal(cloud.authentication.audiences[0], 'https://management.core.windows.net/');
    assert.equal(cloud.suffixes.acrLoginServer, '.registry.example');
    assert.equal((cloudMetadata('2022-09-01', INPUT) as any[]).length, 1);
  });

  it('answers older versions with the object msrestazure reads (az cloud register --endpoint-resource-manager)', () => {
    const m = cloudMetadata('2015-01-01', INPUT) as any;
    assert.equal(m.graphEndpoint, 'https://localhost:8443/');
    assert.equal(m.authentication.loginEndpoint, 'https://localhost:8443/adfs');
    assert.deepEqual(m.authentication.audiences, ['https://management.core.windows.net/', 'https://management.azure.com/']);
    assert.ok(!Array.isArray(cloudMetadata(null, INPUT)));
  });
});
