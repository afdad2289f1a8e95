// Durations in PE's notation: a whole number with an optional unit.
// `30s`, `15m`, `4h`, `2d`, `1y`; no unit means seconds; `0` means "no limit".

const SECONDS_PER_UNIT: Record<string, number> = {
  s: 1,
  m: 60,
  h: 60 * 60,
  d: 24 * 60 * 60,
  y: 365 * 24 * 60 * 60,
};

const DURATION = /^(\d{1,12})([smhdy]?)$/;

/** Parses a PE duration to seconds, or returns undefined when it is not one. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') {
    return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  }
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] || 's';
  const seconds = amount * (SECONDS_PER_UNIT[unit] ?? 1);
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** Seconds in the largest unit that divides them: 3600 → `1h`, 90 → `90s`, 0 → `0`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0';
  const unit = (['y', 'd', 'h', 'm'] as const).find((candidate) => seconds % (SECONDS_PER_UNIT[candidate] as number) === 0);
  return unit ? `${seconds / (SECONDS_PER_UNIT[unit] as number)}${unit}` : `${seconds}s`;
}
