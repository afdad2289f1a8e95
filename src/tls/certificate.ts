// HTTPS by default. With no certificate configured the service
// creates a self-signed one on first start, under <data-dir>/tls/, and reuses
// it afterwards so clients can pin it with `curl --cacert`.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { ConfigError } from '../config/config.js';

export interface TlsMaterial {
  key: string;
  cert: string;
  certPath: string;
  created: boolean;
}

const VALIDITY_DAYS = 3 * 365;

export function tlsPaths(dataDir: string): { dir: string; cert: string; key: string } {
  const dir = path.join(dataDir, 'tls');
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

/** A configured PEM file, read and parsed now: a bad path or file is a configuration error naming its key. */
function readConfiguredPem(key: 'tls-cert' | 'tls-key', file: string, parse: (pem: string) => unknown): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(key, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    parse(pem);
  } catch {
    throw new ConfigError(key, `${file} is not a PEM ${key === 'tls-cert' ? 'certificate' : 'private key'}`);
  }
  return pem;
}

export async function loadOrCreateCertificate(options: { dataDir: string; certFile?: string | undefined; keyFile?: string | undefined }): Promise<TlsMaterial> {
  if (options.certFile && options.keyFile) {
    const cert = readConfiguredPem('tls-cert', options.certFile, (pem) => new X509Certificate(pem));
    const key = readConfiguredPem('tls-key', options.keyFile, (pem) => createPrivateKey(pem));
    return { cert, key, certPath: options.certFile, created: false };
  }
  const paths = tlsPaths(options.dataDir);
  if (existsSync(paths.cert) && existsSync(paths.key)) {
    return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8'), certPath: paths.cert, created: false };
  }

  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const names = [...new Set(['localhost', hostname()])];
  const now = new Date();
  const generated = await generate([{ name: 'commonName', value: hostname() || 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + VALIDITY_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }, { type: 7 as const, ip: '::1' }],
      },
    ],
  });
  // Written under temporary names and renamed, so a crash never leaves half a key.
  writeFileSync(`${paths.key}.tmp`, generated.private, { mode: 0o600 });
  writeFileSync(`${paths.cert}.tmp`, generated.cert, { mode: 0o644 });
  renameSync(`${paths.key}.tmp`, paths.key);
  renameSync(`${paths.cert}.tmp`, paths.cert);
  return { cert: generated.cert, key: generated.private, certPath: paths.cert, created: true };
}
