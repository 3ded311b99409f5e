import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

const cache = new Map<string, string>();

/**
 * A file of the package's `assets/` folder (the coordinator, gate and selection scripts),
 * read once. Shared by every layer that ships a library script, as `conventions.ts` is.
 */
export function asset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(findAsset(name), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/**
 * The path of a file in the package's `assets/` folder. Searched upwards because this
 * module runs from `src/` (tests), `lib/` (the npm package) and `build/src/` (examples).
 */
export function findAsset(name: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'assets', name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cdk8s-mlops is installed incompletely: assets/${name} is missing; reinstall the package`);
  }
}
