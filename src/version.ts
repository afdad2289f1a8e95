// The package version, read once from package.json (src/ and dist/ are at the
// same depth, so the relative path holds for both).

import { readFileSync } from 'node:fs';

export const SERVICE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
