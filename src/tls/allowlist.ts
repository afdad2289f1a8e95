// The certificate allowlist (CONTRACT §12, PE's rbac-certificate-allowlist):
// a file of certnames, one a line, `#` starting a comment. The service reads
// it when a request brings a verified client certificate, and reads it again
// whenever the file has changed since (its inode, size or times differ), so
// an edit — in place or by renaming a new file over it — takes effect on the
// next request, on every instance, without a restart. `rbac allowlist`
// edits it through the functions below.

import { readFileSync, statSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config/config.js';

/** The certnames in an allowlist file's text, in lower case (Puppet's certnames are), in order, without duplicates. */
export function parseAllowlist(text: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((line) => (line.split('#', 1)[0] ?? '').trim().toLowerCase())
    .filter((line) => line !== '');
  return [...new Set(names)];
}

// A Puppet certname: letters, digits, dots, dashes and underscores (Puppet
// refuses others), at most a DNS name's length.
const CERTNAME = /^[A-Za-z0-9._-]{1,253}$/;

/** Whether the text can be a certname on the allowlist; `rbac allowlist` refuses anything else. */
export function isCertname(text: string): boolean {
  return CERTNAME.test(text);
}

interface Snapshot {
  /** What identifies this version of the file: a change in any of its parts means it is read again. */
  version: string | undefined;
  names: ReadonlySet<string>;
}

type FileFacts = { ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint };
const versionFrom = (facts: FileFacts) => `${facts.ino}:${facts.size}:${facts.mtimeNs}:${facts.ctimeNs}`;

async function versionOf(file: string): Promise<string | undefined> {
  return stat(file, { bigint: true }).then(versionFrom, () => undefined);
}

export class CertificateAllowlist {
  private current: Promise<Snapshot>;

  private constructor(
    readonly file: string,
    first: Snapshot,
  ) {
    this.current = Promise.resolve(first);
  }

  /** Reads the file once at start: a missing or unreadable one stops the start, naming the setting. */
  static open(file: string): CertificateAllowlist {
    try {
      const version = versionFrom(statSync(file, { bigint: true }));
      return new CertificateAllowlist(file, { version, names: new Set(parseAllowlist(readFileSync(file, 'utf8'))) });
    } catch (error) {
      throw new ConfigError('certificate-allowlist', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  /** The names on the list now: the file is read again when it has changed. A file that is gone lists nobody. */
  async names(): Promise<ReadonlySet<string>> {
    const version = await versionOf(this.file);
    const known = await this.current;
    if (version === known.version) return known.names;
    // One read for the requests that find the same change together.
    this.current = this.current.then(async (latest) => (latest.version === version ? latest : { version, names: await this.read(version) }));
    return (await this.current).names;
  }

  private async read(version: string | undefined): Promise<Set<string>> {
    if (version === undefined) return new Set();
    return new Set(parseAllowlist(await readFile(this.file, 'utf8').catch(() => '')));
  }

  /** The first of these names (a certificate's CN, then its DNS names) that is on the list. */
  async allowed(candidates: readonly string[]): Promise<string | undefined> {
    const names = await this.names();
    return candidates.find((candidate) => names.has(candidate.toLowerCase()));
  }
}

/** The certnames an allowlist file holds; none when there is no file yet. */
export async function readAllowlistFile(file: string): Promise<string[]> {
  try {
    return parseAllowlist(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Adds or removes one certname, keeping every other line (comments too) as
 * it is. The new file is written beside the old one and renamed over it, so
 * the service never reads half of it. Whether the list changed.
 */
export async function editAllowlistFile(file: string, certname: string, edit: 'add' | 'remove'): Promise<boolean> {
  const name = certname.toLowerCase();
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || edit === 'remove') {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const holds = (line: string) => (line.split('#', 1)[0] ?? '').trim().toLowerCase() === name;
  const present = lines.some(holds);
  if (edit === 'add' && present) return false;
  if (edit === 'remove' && !present) return false;
  const next = edit === 'add' ? [...lines, name] : lines.filter((line) => !holds(line));
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const mode = await stat(file).then((facts) => facts.mode & 0o777, () => 0o644);
  await writeFile(temporary, next.length === 0 ? '' : `${next.join('\n')}\n`, { mode });
  await rename(temporary, file);
  return true;
}
