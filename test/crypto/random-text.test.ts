import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newClientSecret, secretHint } from '../../src/identity/secrets.js';
import { ALPHANUMERIC, randomText } from '../../src/crypto/random-text.js';
import { newRegistryPassword } from '../../src/registry/access/secrets.js';

describe('randomText and the secrets drawn with it', () => {
  it('draws only from the alphabet, and every letter of it turns up', () => {
    const text = randomText('abc', 3000);
    assert.equal(text.length, 3000);
    assert.match(text, /^[abc]+$/);
    for (const c of 'abc') assert.ok(text.split(c).length - 1 > 800, `${c} is drawn about a third of the time`);
    assert.equal(new Set(randomText(ALPHANUMERIC, 62 * 100)).size, 62);
  });

  it('client secrets have Entra ID\'s shape and never begin like a command-line option', () => {
    const secrets = Array.from({ length: 500 }, newClientSecret);
    for (const s of secrets) assert.match(s, /^[A-Za-z0-9]{3}8Q~[A-Za-z0-9~_.]{35}$/);
    assert.equal(new Set(secrets).size, secrets.length);
    assert.equal(secretHint(secrets[0]!), secrets[0]!.slice(0, 3));
  });

  it('registry passwords are 42 letters and digits', () => {
    const passwords = Array.from({ length: 500 }, newRegistryPassword);
    for (const p of passwords) assert.match(p, /^[A-Za-z0-9]{42}$/);
    assert.equal(new Set(passwords).size, passwords.length);
  });
});
