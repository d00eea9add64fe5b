import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ensureLocalTls, type TlsMaterial } from '../../src/tls/local-ca.js';

function leaf(material: TlsMaterial): X509Certificate {
  return new X509Certificate(material.cert);
}

function ca(material: TlsMaterial): X509Certificate {
  return new X509Certificate(readFileSync(material.caCertPath));
}

/** Whether IPv6 loopback is configured here (containers sometimes lack it). */
function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
}

describe('ensureLocalTls', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anchorage-tls-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a CA and a server certificate once, in <dataDir>/tls, and reuses them', () => {
    const first = ensureLocalTls(dir);
    assert.equal(first.caCertPath, join(dir, 'tls', 'ca.crt'));
    assert.equal(first.certPath, join(dir, 'tls', 'server.crt'));
    assert.equal(first.keyPath, join(dir, 'tls', 'server.key'));
    const caPem = readFileSync(first.caCertPath, 'utf8');
    const caKey = readFileSync(join(dir, 'tls', 'ca.key'), 'utf8');
    const mtime = statSync(first.certPath).mtimeMs;

    const second = ensureLocalTls(dir);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
    assert.equal(readFileSync(second.caCertPath, 'utf8'), caPem);
    assert.equal(readFileSync(join(dir, 'tls', 'ca.key'), 'utf8'), caKey);
    assert.equal(statSync(second.certPath).mtimeMs, mtime);
  });

  it('the CA is a CA, and it issued the server certificate, which is not one', () => {
    const material = ensureLocalTls(dir);
    const authority = ca(material);
    const server = leaf(material);
    assert.equal(authority.ca, true);
    assert.equal(server.ca, false);
    assert.ok(server.checkIssued(authority));
    assert.ok(server.verify(authority.publicKey));
    assert.ok(authority.verify(authority.publicKey), 'the CA is self-signed');
    assert.ok(new Date(server.validTo).getTime() > Date.now() + 365 * 86_400_000);
    assert.ok(server.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'server authentication');
    // The certificate file carries the chain up to the CA, as servers send it.
    assert.equal(material.cert.match(/BEGIN CERTIFICATE/g)?.length, 2);
  });

  it('names localhost, 127.0.0.1, ::1 and every extra name', () => {
    const material = ensureLocalTls(dir, ['registry.example.test', '*.apps.example.test', '10.1.2.3', 'fd00::7']);
    const server = leaf(material);
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('registry.example.test'), 'registry.example.test');
    assert.equal(server.checkHost('myacr.apps.example.test'), '*.apps.example.test');
    assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');
    assert.equal(server.checkIP('fd00::7'), 'fd00::7');
    assert.equal(server.checkHost('other.example.test'), undefined);
  });

  it('reuses the certificate when the extra names are the same, IPv6 addresses included', () => {
    const names = ['registry.example.test', '10.1.2.3', 'fd00::7', '::ffff:10.9.8.7'];
    const first = ensureLocalTls(dir, names);
    const second = ensureLocalTls(dir, [...names].reverse());
    assert.equal(second.cert, first.cert, 'the same names must not make a new certificate');
    assert.equal(second.key, first.key);
  });

  it('makes a new server certificate, signed by the same CA, when a name is added', () => {
    const first = ensureLocalTls(dir, ['registry.example.test']);
    // A name that is a prefix of one the certificate has is still a different name.
    const second = ensureLocalTls(dir, ['registry.example.test', 'registry.example']);
    assert.notEqual(second.cert, first.cert);
    assert.equal(leaf(second).checkHost('registry.example'), 'registry.example');
    assert.equal(leaf(second).checkHost('registry.example.test'), 'registry.example.test');
    assert.ok(leaf(second).checkIssued(ca(first)), 'clients that trust the CA keep trusting the server');
    assert.equal(readFileSync(second.caCertPath, 'utf8'), readFileSync(first.caCertPath, 'utf8'));
  });

  it('keeps private keys readable by the owner only', () => {
    const material = ensureLocalTls(dir);
    assert.equal(statSync(join(dir, 'tls', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(material.keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'tls')).mode & 0o777, 0o700);
    ensureLocalTls(dir, ['added.example.test']);
    assert.equal(statSync(material.keyPath).mode & 0o777, 0o600, 'a regenerated key stays private');
  });

  describe('TLS handshake with the CA as the only trust anchor', () => {
    let server: Server;
    let port: number;
    let material: TlsMaterial;

    beforeEach(async () => {
      material = ensureLocalTls(dir);
      server = createServer({ cert: material.cert, key: material.key }, (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, hasIpv6Loopback() ? '::' : '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });

    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function handshake(host: string, servername: string | undefined, trust: string | undefined): Promise<void> {
      return new Promise((resolve, reject) => {
        const socket = connect({ host, port, ...(servername ? { servername } : {}), ...(trust ? { ca: [trust] } : {}) }, () => {
          socket.end();
          resolve();
        });
        socket.once('error', reject);
      });
    }

    it('succeeds for localhost and 127.0.0.1 (and ::1 where there is IPv6 loopback)', async () => {
      const caPem = readFileSync(material.caCertPath, 'utf8');
      await handshake('127.0.0.1', 'localhost', caPem);
      await handshake('127.0.0.1', undefined, caPem);
      if (hasIpv6Loopback()) await handshake('::1', undefined, caPem);
    });

    it('fails without the CA, and for a name the certificate does not carry', async () => {
      const caPem = readFileSync(material.caCertPath, 'utf8');
      await assert.rejects(handshake('127.0.0.1', 'localhost', undefined), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
      await assert.rejects(handshake('127.0.0.1', 'elsewhere.example.test', caPem), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });
  });
});
