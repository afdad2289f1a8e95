// Client certificates (CONTRACT §12). With client-ca set, the HTTPS listener
// asks every client for a certificate but lets a client without one (or with
// one it cannot verify) in: token clients are unaffected. Node verifies the
// chain against client-ca and the validity dates during the handshake; a
// request reads the outcome from its socket here.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../config/config.js';

/** The CA certificates of client-ca, read and checked at start: a bad file stops the start, naming the setting. */
export function readClientCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('client-ca', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError('client-ca', `${file} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new ConfigError('client-ca', `${file} holds a certificate that cannot be read`);
    }
  }
  return pem;
}

/** What the HTTPS listener needs to ask for client certificates: ask, verify against client-ca, never require. */
export function clientCertificateOptions(clientCa: string): { ca: string; requestCert: true; rejectUnauthorized: false } {
  return { ca: clientCa, requestCert: true, rejectUnauthorized: false };
}

/**
 * The certnames of the connection's client certificate — its subject CN,
 * then the DNS names of its subjectAltName — when it chained to client-ca
 * and was within its validity dates; none otherwise (no certificate, another
 * CA, expired, or a connection that is not TLS).
 */
export function verifiedCertnames(socket: Socket): string[] {
  const tls = socket as Partial<TLSSocket>;
  if (tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return [];
  const certificate = tls.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) return [];
  const cn = certificate.subject?.CN;
  const commonNames = Array.isArray(cn) ? cn : cn ? [cn] : [];
  const dnsNames = (certificate.subjectaltname ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  return [...commonNames, ...dnsNames];
}
