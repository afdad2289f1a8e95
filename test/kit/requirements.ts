// A tool a test needs that the machine lacks: outside CI the test is skipped
// with a message saying how to install it; under CI (`CI` set, as .ci/run
// sets it) the run fails instead, so a missing dependency never passes quietly.

/** `false` (run) when nothing is missing; the skip message outside CI; throws under CI. */
export function requireUnderCi(missing: string | undefined, install: string): false | string {
  if (missing === undefined) return false;
  const message = `${missing}: ${install}`;
  if (process.env.CI) throw new Error(`${message} — CI must run these tests (.ci/run installs it)`);
  return message;
}
