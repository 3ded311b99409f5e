import { isWholeNumberIn, shown } from '../model/values';

/** A JSON value, as an item of a fan-out or a sweep parameter holds. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What a fan-out runs over: one instance per item. A string, or a small JSON object. */
export type FanOutItem = string | { readonly [key: string]: JsonValue };

/**
 * Most items of one fan-out: each is a Job, a line of the coordinator's plan and a name
 * in its Role. More is a batch job's work inside one step.
 */
export const MAX_ITEMS = 1000;

/**
 * Most bytes of one item as `MLOPS_ITEM`: it is written into its Job's pod template, and
 * the whole Job must stay small for the API server and the plan. Larger data goes in a
 * Dataset, with items as keys into it.
 */
export const MAX_ITEM_BYTES = 4096;

/** Names an object item's key may have to get its own `MLOPS_ITEM_<KEY>` variable. */
const ENV_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The item as its instance reads it in `MLOPS_ITEM`: the string itself, or compact JSON. */
export function itemText(item: FanOutItem): string {
  return typeof item === 'string' ? item : JSON.stringify(item);
}

/**
 * The variables an instance gets for its item: `MLOPS_ITEM`, `MLOPS_ITEM_INDEX`, and for
 * an object item `<prefix><KEY>` for each top-level key with a string, number or boolean
 * value, so that `args` can say `$(MLOPS_ITEM_REGION)` without a shell.
 */
export function itemEnv(item: FanOutItem, index: number, prefix: string): Record<string, string> {
  const env: Record<string, string> = { MLOPS_ITEM: itemText(item), MLOPS_ITEM_INDEX: String(index) };
  if (typeof item === 'string') return env;
  for (const [key, value] of Object.entries(item)) {
    if (ENV_KEY.test(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      env[`${prefix}${key.toUpperCase()}`] = String(value);
    }
  }
  return env;
}

/** The first problem with a fan-out's items and parallelism, naming the prop, the value and the fix. */
export function itemsProblem(items: readonly unknown[] | undefined, parallelism: unknown, what: string): string | undefined {
  if (!Array.isArray(items)) return `'items' must be a list of strings or JSON objects, got ${shown(items)}`;
  if (items.length === 0) {
    return `'items' is empty: ${what} runs one instance per item; pass at least one, e.g. items: ['eu', 'us']`;
  }
  if (items.length > MAX_ITEMS) {
    return `'items' has ${items.length} items, more than ${MAX_ITEMS} (each is a Job); batch several keys into one item`;
  }
  const seen = new Map<string, number>();
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'string' && !isJsonObject(item)) {
      return `item ${i} must be a string or a JSON object (strings, numbers, booleans, null, lists, objects), got ${shown(item)}`;
    }
    const text = itemText(item);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_ITEM_BYTES) {
      return `item ${i} is ${bytes} bytes as MLOPS_ITEM, more than ${MAX_ITEM_BYTES}: an item travels in its instance's pod template; `
        + 'put the data in a Dataset and fan out over keys into it';
    }
    const key = canonical(item);
    const first = seen.get(key);
    if (first !== undefined) {
      return `'items' holds ${text} twice (items ${first} and ${i}): each item runs exactly once; remove the duplicate`;
    }
    seen.set(key, i);
  }
  if (parallelism !== undefined && !isWholeNumberIn(parallelism, 1, items.length)) {
    return `'parallelism' must be a whole number from 1 to ${items.length} (the number of items), got ${shown(parallelism)}`;
  }
  return undefined;
}

/** JSON with object keys sorted: two items that differ only in key order are the same item. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype
    && Object.values(value).every(isJson);
}

function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  return isJsonObject(value);
}
