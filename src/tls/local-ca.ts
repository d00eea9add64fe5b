import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TlsFiles {
  caCertPath: string;
  certPath: string;
  keyPath: string;
}

export interface TlsMaterial extends TlsFiles {
  cert: string;
  key: string;
}

const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'];
const CA_YEARS = 10;
const SERVER_DAYS = 825;

/**
 * The local certificate authority and the server certificate it signs, kept in `<dataDir>/tls`.
 * Made on first start; the server certificate is made again when a configured name is missing from it,
 * so clients that trust the CA keep working.
 */
export function ensureLocalTls(dataDir: string, extraNames: string[] = []): TlsMaterial {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: TlsFiles = { caCertPath: join(dir, 'ca.crt'), certPath: join(dir, 'server.crt'), keyPath: join(dir, 'server.key') };
  const caKeyPath = join(dir, 'ca.key');
  if (!existsSync(files.caCertPath) || !existsSync(caKeyPath)) {
    const ca = createCa();
    writeFileSync(caKeyPath, ca.key, { mode: 0o600 });
    writeFileSync(files.caCertPath, ca.cert);
  }
  const names = [...new Set([...DEFAULT_NAMES, ...extraNames])];
  if (!existsSync(files.certPath) || !existsSync(files.keyPath) || !coversNames(readFileSync(files.certPath, 'utf8'), names)) {
    const server = createServerCert(readFileSync(files.caCertPath, 'utf8'), readFileSync(caKeyPath, 'utf8'), names);
    writeFileSync(files.keyPath, server.key, { mode: 0o600 });
    writeFileSync(files.certPath, `${server.cert}${readFileSync(files.caCertPath, 'utf8')}`);
  }
  return { ...files, cert: readFileSync(files.certPath, 'utf8'), key: readFileSync(files.keyPath, 'utf8') };
}

function coversNames(pem: string, names: string[]): boolean {
  const cert = new X509Certificate(pem);
  if (new Date(cert.validTo).getTime() < Date.now() + 30 * 86_400_000) return false;
  // Whole entries, not substrings: DNS:registry.example is not covered by DNS:registry.example.test.
  const san = new Set((cert.subjectAltName ?? '').split(', ').map((e) => (e.startsWith('IP Address:') ? sanEntry(e.slice(11)) : e)));
  return names.every((n) => san.has(sanEntry(n)));
}

function sanEntry(name: string): string {
  return isIP(name) ? `IP Address:${canonicalIp(name)}` : `DNS:${name}`;
}

/** One spelling per address: Node prints ::1 as 0:0:0:0:0:0:0:1, and forge cannot parse every IPv6 form (::ffff:1.2.3.4). */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node's OpenSSL makes the key in milliseconds; forge only signs.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.rsa.setPublicKey(key.n, key.e), pem };
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function createCa(): { cert: string; key: string } {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + CA_YEARS * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: `Anchorage local CA ${serial().slice(0, 8)}` }, { name: 'organizationName', value: 'Anchorage' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

function createServerCert(caPem: string, caKeyPem: string, names: string[]): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + SERVER_DAYS * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: names[0]! }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: canonicalIp(n) } : { type: 2, value: n })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}
