import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAuthField, parseDockerConfigJson, parseDockercfg, type DockerConfigEntry } from '../../src/kube/docker-config.js';
import { BasicDockerKeyring, credentialKey, isDefaultRegistryMatch, lookupAll, urlsMatch } from '../../src/kube/keyring.js';

/**
 * The cases of Kubernetes' own keyring and docker-config tests, as data:
 * kubernetes/kubernetes pkg/credentialprovider/keyring_test.go (stored version 6fbbec6a) and
 * pkg/credentialprovider/config_test.go (stored version ee1e7611). Each table keeps the Go test's name.
 */

const SOURCE = { username: 'foo', password: 'bar', email: 'foo@bar.baz' };
const secret = { kind: 'secret', namespace: 'default', name: 's' } as const;
/** The Go tests' sample config: `{"<key>": {"email": ..., "auth": base64("foo:bar")}}`. */
const sample = (key: string): DockerConfigEntry[] =>
  parseDockercfg(JSON.stringify({ [key]: { email: SOURCE.email, auth: Buffer.from(`${SOURCE.username}:${SOURCE.password}`).toString('base64') } }));

// TestUrlsMatch
const URLS_MATCH: Array<[glob: string, target: string, match: boolean]> = [
  ['*.kubernetes.io', 'prefix.kubernetes.io', true],
  ['prefix.*.io', 'prefix.kubernetes.io', true],
  ['prefix.kubernetes.*', 'prefix.kubernetes.io', true],
  ['*-good.kubernetes.io', 'prefix-good.kubernetes.io', true],
  ['*.kubernetes.io/blah', 'prefix.kubernetes.io/blah', true],
  ['prefix.*.io/foo', 'prefix.kubernetes.io/foo/bar', true],
  ['*.kubernetes.io:1111/blah', 'prefix.kubernetes.io:1111/blah', true],
  ['prefix.*.io:1111/foo', 'prefix.kubernetes.io:1111/foo/bar', true],
  ['*.kubernetes.io', 'kubernetes.io', false],
  ['*.*.kubernetes.io', 'prefix.kubernetes.io', false],
  ['*.*.kubernetes.io', 'kubernetes.io', false],
  ['kubernetes.io', 'kubernetes.com', false],
  ['k*.io', 'quay.io', false],
  ['*.kubernetes.io:1234/blah', 'prefix.kubernetes.io:1111/blah', false],
  ['prefix.*.io/foo', 'prefix.kubernetes.io:1111/foo/bar', false],
];

// TestDockerKeyringForGlob: the key as written in a docker config, and the image prefix it must match (+ "/foo/bar").
const FOR_GLOB: Array<[key: string, target: string]> = [
  ['https://hello.kubernetes.io', 'hello.kubernetes.io'],
  ['https://*.docker.io', 'prefix.docker.io'],
  ['https://prefix.*.io', 'prefix.docker.io'],
  ['https://prefix.docker.*', 'prefix.docker.io'],
  ['https://*.docker.io/path', 'prefix.docker.io/path'],
  ['https://prefix.*.io/path', 'prefix.docker.io/path/subpath'],
  ['https://prefix.docker.*/path', 'prefix.docker.io/path'],
  ['https://*.docker.io:8888', 'prefix.docker.io:8888'],
  ['https://prefix.*.io:8888', 'prefix.docker.io:8888'],
  ['https://prefix.docker.*:8888', 'prefix.docker.io:8888'],
  ['https://*.docker.io/path:1111', 'prefix.docker.io/path:1111'],
  ['https://*.docker.io/v1/', 'prefix.docker.io/path:1111'],
  ['https://*.docker.io/v2/', 'prefix.docker.io/path:1111'],
  ['https://prefix.docker.*/path:1111', 'prefix.docker.io/path:1111'],
  ['prefix.docker.io:1111', 'prefix.docker.io:1111/path'],
  ['*.docker.io:1111', 'prefix.docker.io:1111/path'],
];

// TestKeyringMiss: the key, and an image prefix that must not match it (+ "/foo/bar").
const MISS: Array<[key: string, lookup: string]> = [
  ['https://hello.kubernetes.io', 'world.mesos.org/foo/bar'],
  ['https://*.docker.com', 'prefix.docker.io'],
  ['https://suffix.*.io', 'prefix.docker.io'],
  ['https://prefix.docker.c*', 'prefix.docker.io'],
  ['https://prefix.*.io/path:1111', 'prefix.docker.io/path/subpath:1111'],
  ['suffix.*.io', 'prefix.docker.io'],
];

// TestIsDefaultRegistryMatch
const DEFAULT_REGISTRY: Array<[image: string, expected: boolean]> = [
  ['foo/bar', true], ['docker.io/foo/bar', true], ['index.docker.io/foo/bar', true], ['foo', true],
  ['', false], ['registry.tld/foo/bar', false], ['registry:5000/foo/bar', false], ['myhostdocker.io/foo/bar', false],
];

describe('kubelet keyring: the cases of kubernetes pkg/credentialprovider/keyring_test.go', () => {
  it('TestUrlsMatch', () => {
    for (const [glob, target, match] of URLS_MATCH) assert.equal(urlsMatch(glob, target), match, `${glob} vs ${target}`);
  });

  it('TestDockerKeyringForGlob', () => {
    for (const [key, target] of FOR_GLOB) {
      const keyring = new BasicDockerKeyring();
      keyring.add(sample(key), secret);
      const found = keyring.lookup(`${target}/foo/bar`);
      assert.ok(found.length > 0, `${key} finds ${target}`);
      assert.deepEqual({ username: found[0]!.username, password: found[0]!.password, email: found[0]!.email }, SOURCE);
    }
  });

  it('TestKeyringMiss', () => {
    for (const [key, lookup] of MISS) {
      const keyring = new BasicDockerKeyring();
      keyring.add(sample(key), secret);
      assert.deepEqual(keyring.lookup(`${lookup}/foo/bar`), [], `${key} does not match ${lookup}`);
    }
  });

  it('TestKeyringMissWithDockerHubCredentials', () => {
    const keyring = new BasicDockerKeyring();
    keyring.add(sample('https://index.docker.io/v1/'), secret);
    assert.deepEqual(keyring.lookup('world.mesos.org/foo/bar'), []);
  });

  it('TestKeyringHitWithUnqualifiedDockerHub, ...UnqualifiedLibraryDockerHub and ...QualifiedDockerHub', () => {
    for (const [image, most] of [['google/docker-registry', 1], ['jenkins', 1], ['index.docker.io/v1//google/docker-registry', 2]] as const) {
      const keyring = new BasicDockerKeyring();
      keyring.add(sample('https://index.docker.io/v1/'), secret);
      const found = keyring.lookup(image);
      assert.ok(found.length >= 1 && found.length <= most, `${image}: ${found.length} hits`);
      assert.equal(found[0]!.username, 'foo');
      assert.equal(found[0]!.password, 'bar');
    }
  });

  it('TestIsDefaultRegistryMatch', () => {
    for (const [image, expected] of DEFAULT_REGISTRY) assert.equal(isDefaultRegistryMatch(image), expected, JSON.stringify(image));
  });

  it('TestDockerKeyringLookup: all matches, the longer path first', () => {
    const ada = { username: 'ada', password: 'smash', email: 'ada@example.com' };
    const grace = { username: 'grace', password: 'squash', email: 'grace@example.com' };
    const keyring = new BasicDockerKeyring();
    keyring.add([{ key: 'bar.example.com/pong', ...grace }, { key: 'bar.example.com', ...ada }], secret);
    const cases: Array<[string, Array<typeof ada>]> = [
      ['bar.example.com', [ada]],
      ['bar.example.com/pong', [grace, ada]],
      ['bar.example.com/ping', [ada]],
      ['bar.example.com/pongz', [grace, ada]],
      ['bar.example.com/pong/pang', [grace, ada]],
      ['example.com', []],
      ['foo.example.com', []],
    ];
    for (const [image, expected] of cases) {
      assert.deepEqual(keyring.lookup(image).map(({ username, password, email }) => ({ username, password, email })), expected, image);
    }
  });

  it('TestIssue3797: a key with a scheme and /v1/ path matches by host', () => {
    const keyring = new BasicDockerKeyring();
    keyring.add([{ key: 'https://quay.io/v1/', username: 'rex', password: 'tiny arms', email: 'rex@example.com' }], secret);
    for (const image of ['quay.io', 'quay.io/foo', 'quay.io/foo/bar']) assert.equal(keyring.lookup(image)[0]?.username, 'rex', image);
  });
});

describe('docker config entries: the cases of kubernetes pkg/credentialprovider/config_test.go', () => {
  it('TestDockerConfigJsonJSONDecode and TestDockerConfigJSONDecode', () => {
    const auths = { 'http://foo.example.com': { username: 'foo', password: 'bar', email: 'foo@example.com' }, 'http://bar.example.com': { username: 'bar', password: 'baz', email: 'bar@example.com' } };
    const expected = [
      { key: 'http://foo.example.com', username: 'foo', password: 'bar', email: 'foo@example.com' },
      { key: 'http://bar.example.com', username: 'bar', password: 'baz', email: 'bar@example.com' },
    ];
    assert.deepEqual(parseDockerConfigJson(JSON.stringify({ auths })), expected);
    assert.deepEqual(parseDockercfg(JSON.stringify(auths)), expected);
  });

  it('TestDockerConfigEntryJSONDecode', () => {
    const cases: Array<[string, { username: string; password: string; email: string } | 'fail']> = [
      ['{"username": "foo", "password": "bar", "email": "foo@example.com"}', { username: 'foo', password: 'bar', email: 'foo@example.com' }],
      ['{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}', { username: 'foo', password: 'bar', email: 'foo@example.com' }],
      ['{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}', { username: 'ping', password: 'pong', email: 'foo@example.com' }],
      ['{"auth": "pants", "email": "foo@example.com"}', 'fail'],
      ['{"email": false}', 'fail'],
    ];
    for (const [entry, expected] of cases) {
      const parse = () => parseDockercfg(`{"k": ${entry}}`).map(({ username, password, email }) => ({ username, password, email }))[0];
      if (expected === 'fail') assert.throws(parse, Error, entry);
      else assert.deepEqual(parse(), expected, entry);
    }
  });

  it('TestDecodeDockerConfigFieldAuth', () => {
    assert.deepEqual(decodeAuthField('Zm9vOmJhcg=='), { username: 'foo', password: 'bar' });
    assert.throws(() => decodeAuthField('cGFudHM='), /must be formatted as base64\(username:password\)/);
    assert.throws(() => decodeAuthField('pants'), /illegal base64 data/);
  });
});

describe('kubelet keyring: beyond the Go tests', () => {
  it('normalizes keys: scheme and /v1/ or /v2/ dropped, paths kept', () => {
    assert.equal(credentialKey('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(credentialKey('http://myreg.example.com:5000/v2/'), 'myreg.example.com:5000');
    assert.equal(credentialKey('myreg.azurecr.io/team'), 'myreg.azurecr.io/team');
    assert.equal(credentialKey('host:port'), undefined, 'a port that is not digits does not parse');
  });

  it('ports match exactly, in both directions', () => {
    assert.equal(urlsMatch('localhost:5000', 'localhost:5000/app'), true);
    assert.equal(urlsMatch('localhost', 'localhost:5000/app'), false);
    assert.equal(urlsMatch('localhost:5000', 'localhost/app'), false);
  });

  it('globs: classes, malformed patterns (which match nothing), and ? (which Go\'s url.Parse reads as the start of a query)', () => {
    assert.equal(urlsMatch('reg[0-9].example.com', 'reg7.example.com/a'), true);
    assert.equal(urlsMatch('reg[^0-9].example.com', 'reg7.example.com/a'), false);
    assert.equal(urlsMatch('re?.example.com', 'reg.example.com/a'), false);
    assert.equal(urlsMatch('re?', 're/a'), true, 'the host is "re", the query ignored');
    assert.equal(urlsMatch('reg[.example.com', 'reg[.example.com/a'), false);
  });

  it('a specific key is tried before a wildcard one, and pod secrets before node and provider credentials', () => {
    const pod = new BasicDockerKeyring();
    pod.add([{ key: '*.azurecr.io', username: 'wild', password: 'p', email: '' }, { key: 'myreg.azurecr.io', username: 'exact', password: 'p', email: '' }], secret);
    const node = new BasicDockerKeyring();
    node.add([{ key: 'myreg.azurecr.io', username: 'node', password: 'p', email: '' }], { kind: 'node', file: 'config.json' });
    const provider = new BasicDockerKeyring();
    provider.add([{ key: 'myreg.azurecr.io', username: '00000000-0000-0000-0000-000000000000', password: 'rt', email: '' }], { kind: 'provider', name: 'acr' });
    assert.deepEqual(lookupAll([pod, node, provider], 'myreg.azurecr.io/app').map((c) => c.username),
      ['exact', 'wild', 'node', '00000000-0000-0000-0000-000000000000']);
  });
});
