// Durations as people type them for `mpip cache clean --older-than`: a number and a unit, `30d`, `12h`.

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * `30d` → 2592000000 (milliseconds). A whole or decimal number above 0, then one unit: `s` seconds,
 * `m` minutes, `h` hours, `d` days, `w` weeks. Undefined for anything else (a bare number is refused:
 * its unit would be a guess).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()]!;
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** A duration in the form `--older-than` takes, in the largest unit that gives a short number: 2592000000 → `30d`. */
export function formatDuration(ms: number): string {
  for (const unit of ["w", "d", "h", "m"]) {
    const count = ms / UNIT_MS[unit]!;
    if (Number.isInteger(count)) return `${count}${unit}`;
  }
  return `${Math.round((ms / 1000) * 1000) / 1000}s`;
}
