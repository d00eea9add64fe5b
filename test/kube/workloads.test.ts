import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError, readManifests } from '../../src/kube/workloads.js';

describe('workload manifests: every pod-bearing kind, Secrets and ServiceAccounts, YAML or JSON', () => {
  it('finds the pod spec of each kind, with init and ephemeral containers, and the ServiceAccount defaults', () => {
    const template = (containers: object) => ({ template: { spec: containers } });
    const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].map((kind) => ({ kind, metadata: { name: kind.toLowerCase() }, spec: template({ containers: [{ name: 'c', image: `${kind}:1` }] }) }));
    const yaml = [
      ...kinds.map((k) => JSON.stringify(k)),
      'kind: CronJob\nmetadata: {name: cron, namespace: batch}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccount: legacy\n          containers: [{name: c, image: "cron:1"}]\n',
      'kind: Pod\nmetadata: {name: pod}\nspec:\n  serviceAccountName: builder\n  imagePullSecrets: [{name: a}, {name: ""}, {name: b}]\n  initContainers: [{name: i, image: init}]\n  containers: [{name: c, image: main}]\n  ephemeralContainers: [{name: e, image: debug}]\n',
    ].join('\n---\n');
    const { pods } = readManifests([{ name: 'all.yaml', text: yaml }]);
    assert.deepEqual(pods.map((p) => [p.kind, p.namespace, p.serviceAccountName, p.containers.map((c) => `${c.kind}:${c.image}`)]), [
      ['Deployment', 'default', 'default', ['container:Deployment:1']],
      ['StatefulSet', 'default', 'default', ['container:StatefulSet:1']],
      ['DaemonSet', 'default', 'default', ['container:DaemonSet:1']],
      ['ReplicaSet', 'default', 'default', ['container:ReplicaSet:1']],
      ['Job', 'default', 'default', ['container:Job:1']],
      ['CronJob', 'batch', 'legacy', ['container:cron:1']],
      ['Pod', 'default', 'builder', ['initContainer:init', 'container:main', 'ephemeralContainer:debug']],
    ]);
    assert.deepEqual(pods.at(-1)!.imagePullSecrets, ['a', 'b'], 'empty names are skipped, as the kubelet skips them');
  });

  it('reads Lists, Secrets (data decoded, stringData over it) and ServiceAccounts; other kinds are ignored', () => {
    const list = {
      apiVersion: 'v1', kind: 'List', items: [
        { kind: 'Secret', metadata: { name: 's', namespace: 'n' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64'), x: 'eA==' }, stringData: { x: 'y' } },
        { kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'n' }, imagePullSecrets: [{ name: 's' }] },
        { kind: 'ConfigMap', metadata: { name: 'cm' } },
      ],
    };
    const m = readManifests([{ name: 'list.json', text: JSON.stringify(list) }]);
    assert.deepEqual(m.secrets, [{ namespace: 'n', name: 's', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': '{"auths":{}}', x: 'y' } }]);
    assert.deepEqual(m.serviceAccounts, [{ namespace: 'n', name: 'sa', imagePullSecrets: ['s'] }]);
    assert.deepEqual(m.pods, []);
  });

  it('a YAML error or a workload without a pod spec names the file', () => {
    assert.throws(() => readManifests([{ name: 'bad.yaml', text: 'kind: Pod\n  spec: [' }]), (e: Error) => e instanceof ManifestError && e.message.startsWith('bad.yaml: '));
    assert.throws(() => readManifests([{ name: 'd.yaml', text: 'kind: Deployment\nmetadata: {name: d}\n' }]), /d\.yaml: Deployment default\/d has no pod spec at spec\.template\.spec/);
  });

  it('refuses what the API server would: no kind, no containers, a container without an image', () => {
    const refused = (text: string, message: RegExp) => assert.throws(() => readManifests([{ name: 'w.yaml', text }]), (e: Error) => e instanceof ManifestError && message.test(e.message), text);
    refused('{}', /w\.yaml: a document has no kind/);
    refused('kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {initContainers: [{name: i, image: busybox}]}}}', /Deployment default\/d: spec\.template\.spec\.containers: Required value/);
    refused('kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}', /Pod default\/p: spec\.containers\[0\]\.image: Required value/);
  });
});
