// The passwords every kit-started service uses (the final log search looks for them).

/** The bootstrap admin's password. */
export const ADMIN_PASSWORD = 'correct horse battery staple';
/** The password of users the helpers create. */
export const USER_PASSWORD = 'a perfectly long passphrase';
