// Client certificates for tests of the certificate allowlist (CONTRACT §12),
// made at test time and never committed: a CA (the Puppet CA's role), a
// second CA nobody trusts, and clients signed by them — on the allowlist,
// off it, named only in the subjectAltName, signed by the other CA, expired.

import { generate } from 'selfsigned';

export interface KeyAndCertificate {
  key: string;
  cert: string;
}

export interface TestCertificates {
  /** The CA client-ca names. */
  ca: KeyAndCertificate;
  /** CN node1.example.com, signed by the CA. */
  allowlisted: KeyAndCertificate;
  /** CN stranger.example.com, signed by the CA, on no list. */
  unlisted: KeyAndCertificate;
  /** CN not-a-certname, DNS subjectAltName console.example.com, signed by the CA. */
  dnsName: KeyAndCertificate;
  /** CN node1.example.com, signed by another CA. */
  otherCa: KeyAndCertificate;
  /** CN node1.example.com, signed by the CA, valid only on 1 and 2 January 2020. */
  expired: KeyAndCertificate;
}

async function authority(name: string): Promise<KeyAndCertificate> {
  const made = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 3600_000),
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { key: made.private, cert: made.cert };
}

async function client(ca: KeyAndCertificate, commonName: string, options: { dnsNames?: string[]; notBefore?: Date; notAfter?: Date } = {}): Promise<KeyAndCertificate> {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca,
    notBeforeDate: options.notBefore ?? new Date(Date.now() - 3600_000),
    notAfterDate: options.notAfter ?? new Date(Date.now() + 7 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true, serverAuth: true },
      ...(options.dnsNames ? [{ name: 'subjectAltName' as const, altNames: options.dnsNames.map((value) => ({ type: 2 as const, value })) }] : []),
    ],
  });
  return { key: made.private, cert: made.cert };
}

let made: Promise<TestCertificates> | undefined;

/** The test certificates, made once per test process. */
export function testCertificates(): Promise<TestCertificates> {
  made ??= (async () => {
    const [ca, other] = await Promise.all([authority('Test Puppet CA'), authority('Someone Else CA')]);
    const [allowlisted, unlisted, dnsName, otherCa, expired] = await Promise.all([
      client(ca, 'node1.example.com'),
      client(ca, 'stranger.example.com'),
      client(ca, 'not-a-certname', { dnsNames: ['console.example.com'] }),
      client(other, 'node1.example.com'),
      client(ca, 'node1.example.com', { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') }),
    ]);
    return { ca, allowlisted, unlisted, dnsName, otherCa, expired };
  })();
  return made;
}
