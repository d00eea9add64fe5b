import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonQuietly } from '../../src/kube/quiet-json.js';

describe('parseJsonQuietly', () => {
  it('parses JSON as JSON.parse does', () => {
    assert.deepEqual(parseJsonQuietly('{"a":[1,"b"]}'), { a: [1, 'b'] });
  });

  it('never quotes the text in its error, where a secret may sit, and says where it can', () => {
    const secret = 'RoO8Q~Q4yXsecretsecret';
    for (const text of [`{"aadClientSecret": ${secret}}`, `{"auths":{"x":{"password":${secret}`, `{"aadClientSecret": '${secret}'}`]) {
      assert.throws(() => parseJsonQuietly(text), (err: Error) => !err.message.includes(secret.slice(0, 4)) && /^not valid JSON/.test(err.message), text);
    }
    assert.throws(() => parseJsonQuietly('{\n  "a"'), /not valid JSON \(line 2, column 6\)/);
  });
});
