/**
 * A user-given value as error messages show it: numbers as they are, anything else with its
 * type, so a string `'3'` reads "got string '3'" and is not mistaken for the number 3.
 */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `string '${value}'`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${String(value)}`;
}

/** Whether `value` is a whole number from `min` to `max`, of type number. */
export function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
