import { existsSync, readdirSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

const cache = new Map<string, string>();

/** The coordinator script shipped with the package (`assets/coordinate.sh`). */
export function coordinatorScript(): string {
  return asset('coordinate.sh');
}

/** The prelude that creates a run's Jobs before coordinating them (`assets/start-run.sh`). */
export function runPreludeScript(): string {
  return asset('start-run.sh');
}

/** The gate script shipped with the package (`assets/gate.sh`). */
export function gateScript(): string {
  return asset('gate.sh');
}

/** The promotion script shipped with the package (`assets/promote.sh`). */
export function promoteScript(): string {
  return asset('promote.sh');
}

/** The values reporter shipped with the package (`assets/report-values.sh`). */
export function valuesReporterScript(): string {
  return asset('report-values.sh');
}

/** Every script the package ships in `assets/` (`*.sh`): the only ones `verify`'s dry run runs. */
export function shippedScripts(): string[] {
  const dir = dirname(findAsset('gate.sh'));
  return readdirSync(dir).filter((f) => f.endsWith('.sh')).sort().map(asset);
}

function asset(name: string): string {
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
