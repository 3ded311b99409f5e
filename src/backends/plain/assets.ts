import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

let scriptCache: string | undefined;

/** The coordinator script shipped with the package (`assets/coordinate.sh`). */
export function coordinatorScript(): string {
  scriptCache ??= readFileSync(findAsset('coordinate.sh'), 'utf8');
  return scriptCache;
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
