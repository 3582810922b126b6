// Durations on the command line: `90s`, `15m`, `2h`, `1h30m`, `1d`, or a plain number of seconds.
// Maintenance windows, catch-up windows and jitter take them; errors name the flag.

const UNITS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };

/** Seconds in a duration; throws an Error naming `--flag` when the text is not one. */
export function parseDuration(flag: string, text: string, o: { min?: number } = {}): number {
  const t = text.trim().toLowerCase();
  let seconds: number | undefined;
  if (/^\d+$/.test(t)) seconds = Number(t);
  else if (/^(\d+[dhms])+$/.test(t)) {
    seconds = 0;
    const seen = new Set<string>();
    for (const [, n, unit] of t.matchAll(/(\d+)([dhms])/g)) {
      if (seen.has(unit!)) {
        seconds = undefined;
        break;
      }
      seen.add(unit!);
      seconds += Number(n) * UNITS[unit!]!;
    }
  }
  if (seconds === undefined)
    throw new Error(`--${flag}: "${text}" is not a duration (like 90s, 15m, 2h, 1h30m, 1d, or seconds)`);
  const min = o.min ?? 1;
  if (seconds < min) throw new Error(`--${flag}: ${text} is shorter than ${formatDuration(min)}`);
  return seconds;
}

/** `1h30m`, `15m`, `45s`, `0s`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  let rest = Math.round(seconds);
  let out = '';
  for (const [unit, size] of Object.entries(UNITS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
