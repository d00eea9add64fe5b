import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseDockerConfigJson } from '../../src/kube/docker-config.js';
import { renderSecret, renderSecrets, ManifestInputError, type SecretSpec } from '../../src/kube/secret-manifest.js';
import { run } from '../helpers/client-tools.js';

/** What `kubectl create secret docker-registry` prints for the same values, with --dry-run=client. */
async function kubectl(spec: SecretSpec, format: 'yaml' | 'json'): Promise<string> {
  const args = ['create', 'secret', 'docker-registry', spec.name, '--docker-server', spec.server,
    '--docker-username', spec.login.username, '--docker-password', spec.login.password,
    ...(spec.login.email ? ['--docker-email', spec.login.email] : []),
    ...(spec.namespace ? ['--namespace', spec.namespace] : []),
    '--dry-run=client', '-o', format];
  // No kubeconfig is needed for a client-side dry run; an empty one keeps the user's own out of it.
  return (await run('kubectl', args, { env: { KUBECONFIG: '/dev/null' } })).stdout;
}

const CASES: SecretSpec[] = [
  { name: 'acr-auth', server: 'myregistry.azurecr.io', login: { username: '00000000-0000-0000-0000-000000000000', password: 'p@ss' } },
  { name: 'acr-auth', server: 'localhost:40123', login: { username: '3f2504e0-4f89-11d3-9a0c-0305e82c3301', password: 'Zx8~Qw.secret_value-1', email: 'ops@example.com' } },
  { name: 'team.pull', namespace: 'team-a', server: 'https://index.docker.io/v1/', login: { username: 'u', password: 'a<b>&c "quoted" \\ back', email: 'e@x' } },
  { name: 'unicode', namespace: 'ns', server: 'reg.example.com:5000', login: { username: 'ü ser', password: 'pässwörd \u2028 \t tab\nnewline\u0001\b\f', email: '' } },
  // Names YAML would read as numbers, booleans, null or dates are quoted; names that only look close are not.
  ...['123', '007', '0x1f', '0o17', '0b101', '1e3', '1.5', 'y', 'n', 'on', 'off', 'yes', 'no', 'true', 'false', 'null', '2001-12-14', '2001-13-14', '1e', '0.5.1', 'inf', 'nan', '1-2']
    .map((name) => ({ name, namespace: name.length <= 63 && !name.includes('.') ? name : 'default', server: 'X', login: { username: 'U', password: 'P' } })),
];

describe('pull secret manifests: byte for byte what kubectl create secret docker-registry prints', () => {
  it('matches the kubectl 1.32.4 output recorded in the reference notes', () => {
    const spec = { name: 'acr-auth', server: 'X', login: { username: 'U', password: 'P', email: 'E' } };
    assert.equal(renderSecret(spec, 'yaml'), [
      'apiVersion: v1', 'data:', '  .dockerconfigjson: eyJhdXRocyI6eyJYIjp7InVzZXJuYW1lIjoiVSIsInBhc3N3b3JkIjoiUCIsImVtYWlsIjoiRSIsImF1dGgiOiJWVHBRIn19fQ==',
      'kind: Secret', 'metadata:', '  creationTimestamp: null', '  name: acr-auth', 'type: kubernetes.io/dockerconfigjson', '',
    ].join('\n'));
    assert.equal(renderSecret(spec, 'json'), `${JSON.stringify({
      kind: 'Secret', apiVersion: 'v1', metadata: { name: 'acr-auth', creationTimestamp: null },
      data: { '.dockerconfigjson': 'eyJhdXRocyI6eyJYIjp7InVzZXJuYW1lIjoiVSIsInBhc3N3b3JkIjoiUCIsImVtYWlsIjoiRSIsImF1dGgiOiJWVHBRIn19fQ==' },
      type: 'kubernetes.io/dockerconfigjson',
    }, null, 4)}\n`);
  });

  it('matches the installed kubectl for every case, in YAML and JSON', async () => {
    for (const spec of CASES) {
      for (const format of ['yaml', 'json'] as const) {
        assert.equal(renderSecret(spec, format), await kubectl(spec, format), `${format} for ${JSON.stringify(spec)}`);
      }
    }
  });

  it('the .dockerconfigjson reads back, in the kubelet\'s reading, as the credentials given', () => {
    for (const spec of CASES) {
      const doc = JSON.parse(renderSecret(spec, 'json')) as { data: Record<string, string> };
      const entries = parseDockerConfigJson(Buffer.from(doc.data['.dockerconfigjson']!, 'base64').toString('utf8'));
      assert.deepEqual(entries, [{ key: spec.server, username: spec.login.username, password: spec.login.password, email: spec.login.email ?? '' }]);
    }
  });

  it('several namespaces: one YAML document or JSON object each, a stream kubectl apply reads', () => {
    const specs = ['a', 'b'].map((namespace) => ({ name: 's', namespace, server: 'X', login: { username: 'U', password: 'P' } }));
    const docs = parseAllDocuments(renderSecrets(specs, 'yaml')).map((d) => d.toJS() as { metadata: { namespace: string } });
    assert.deepEqual(docs.map((d) => d.metadata.namespace), ['a', 'b']);
    const json = renderSecrets(specs, 'json');
    assert.equal(json, renderSecret(specs[0]!, 'json') + renderSecret(specs[1]!, 'json'));
  });

  it('refuses what the API server would refuse, in its words', () => {
    assert.throws(() => renderSecret({ name: 'Bad_Name', server: 'X', login: { username: 'U', password: 'P' } }, 'yaml'), (e: Error) => e instanceof ManifestInputError && /metadata\.name: Invalid value: "Bad_Name"/.test(e.message));
    assert.throws(() => renderSecret({ name: 'ok', namespace: 'a.b', server: 'X', login: { username: 'U', password: 'P' } }, 'yaml'), /metadata\.namespace: Invalid value/);
    assert.throws(() => renderSecret({ name: 'ok', server: 'X', login: { username: 'U', password: '' } }, 'yaml'), /--docker-username, --docker-password and --docker-server is required/);
  });
});
