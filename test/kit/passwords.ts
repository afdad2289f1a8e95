// The passwords every kit-started service uses (the final log search looks for them).

import type { Config } from '../../src/config/config.js';

/** The bootstrap admin's password. */
export const ADMIN_PASSWORD = 'correct horse battery staple';
/** The password of users the helpers create. */
export const USER_PASSWORD = 'a perfectly long passphrase';

/** PE's composition rules as an operator might set them: 8 letters, 2 of each case, 2 digits, 2 other characters. */
export const COMPOSITION_RULES = {
  lettersRequired: 8,
  lowercaseLettersRequired: 2,
  uppercaseLettersRequired: 2,
  numbersRequired: 2,
  specialCharactersRequired: 2,
} as const satisfies Partial<Config>;

/** A password that meets COMPOSITION_RULES and the default rules (exactly 2 digits), for users of services that set them. */
export const COMPOSED_PASSWORD = 'Lantern-Harbor 47 MORNING tide!';
