/** `base`, or `base-2`, `base-3`… : the first name none of the account's projects has (names are unique per account). */
export function freeName(taken: readonly string[], base: string): string {
  const names = new Set(taken);
  if (!names.has(base)) return base;
  for (let n = 2; ; n++) if (!names.has(`${base}-${n}`)) return `${base}-${n}`;
}
