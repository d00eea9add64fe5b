import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SecretBox } from '../../src/crypto/secret-box.js';

describe('SecretBox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anchorage-secret-box-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its key, and the folder for it, on first use: 32 bytes, mode 0600, no temporary file left', () => {
    const keyFile = join(dir, 'fresh', 'data', 'secrets.key');
    SecretBox.open(keyFile);
    const s = statSync(keyFile);
    assert.equal(s.size, 32);
    assert.equal(s.mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'fresh', 'data')), ['secrets.key']);
  });

  it('opens what it sealed, with the same key file and context only', () => {
    const keyFile = join(dir, 'a.key');
    const sealed = SecretBox.open(keyFile).seal('s3cret', 'cluster one');
    assert.equal(sealed.includes(Buffer.from('s3cret')), false);
    assert.equal(SecretBox.open(keyFile).unseal(sealed, 'cluster one'), 's3cret');
    assert.throws(() => SecretBox.open(keyFile).unseal(sealed, 'cluster two'));
    assert.throws(() => SecretBox.open(join(dir, 'b.key')).unseal(sealed, 'cluster one'));
  });

  it('gives every opener the same key when several open a new key file at once', () => {
    const keyFile = join(dir, 'shared.key');
    const boxes = Array.from({ length: 5 }, () => SecretBox.open(keyFile));
    const sealed = boxes[0]!.seal('x', 'c');
    for (const box of boxes) assert.equal(box.unseal(sealed, 'c'), 'x');
  });
});
