import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidImageNameError, parseImageReference } from '../../src/kube/image-reference.js';

describe('image references as the kubelet normalizes them', () => {
  it('Docker Hub defaults: docker.io, library/, :latest', () => {
    const cases: Array<[image: string, repoToPull: string, pullSpec: string]> = [
      ['nginx', 'docker.io/library/nginx', 'nginx:latest'],
      ['nginx:1.27', 'docker.io/library/nginx', 'nginx:1.27'],
      ['bitnami/redis', 'docker.io/bitnami/redis', 'bitnami/redis:latest'],
      ['docker.io/nginx', 'docker.io/library/nginx', 'docker.io/nginx:latest'],
      ['index.docker.io/library/nginx:1', 'docker.io/library/nginx', 'index.docker.io/library/nginx:1'],
      ['localhost/app', 'localhost/app', 'localhost/app:latest'],
      ['localhost:5000/team/app:v1', 'localhost:5000/team/app', 'localhost:5000/team/app:v1'],
      ['myreg.azurecr.io/team/app@sha256:' + 'a'.repeat(64), 'myreg.azurecr.io/team/app', 'myreg.azurecr.io/team/app@sha256:' + 'a'.repeat(64)],
      ['Registry/app', 'Registry/app', 'Registry/app:latest'],
    ];
    for (const [image, repoToPull, pullSpec] of cases) {
      const ref = parseImageReference(image);
      assert.equal(ref.repoToPull, repoToPull, image);
      assert.equal(ref.pullSpec, pullSpec, image);
      assert.equal(`${ref.registry}/${ref.repository}`, repoToPull, image);
    }
    const both = parseImageReference('myreg.example.com:443/app:v2@sha256:' + 'b'.repeat(64));
    assert.equal(both.tag, 'v2');
    assert.equal(both.digest, `sha256:${'b'.repeat(64)}`);
  });

  it('invalid names fail as the kubelet reports them (InvalidImageName)', () => {
    for (const [image, why] of [
      ['Nginx', 'repository name must be lowercase'],
      ['myreg.io/App:v1', 'repository name must be lowercase'],
      ['nginx:', 'invalid reference format'],
      ['my reg/app', 'invalid reference format'],
      ['a'.repeat(64), 'cannot specify 64-byte hexadecimal strings'],
    ] as const) {
      assert.throws(() => parseImageReference(image), (err: Error) => err instanceof InvalidImageNameError
        && err.message.startsWith(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": `) && err.message.includes(why), image);
    }
  });
});
