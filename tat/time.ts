/** API time format: `YYYY-MM-DDThh:mm:ssZ` in UTC (docs/tat-api-reference.md, "Answers"). */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

export function apiTimeOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : apiTime(ms);
}
