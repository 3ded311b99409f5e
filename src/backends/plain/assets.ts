import { readdirSync } from 'fs';
import { dirname } from 'path';
import { asset, findAsset } from '../../assets';

export { findAsset } from '../../assets';

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

/** The step that deletes old runs' folders (`assets/prune-runs.sh`). */
export function pruneRunsScript(): string {
  return asset('prune-runs.sh');
}

/** Every script the package ships in `assets/` (`*.sh`): the only ones `verify`'s dry run runs. */
export function shippedScripts(): string[] {
  const dir = dirname(findAsset('gate.sh'));
  return readdirSync(dir).filter((f) => f.endsWith('.sh')).sort().map(asset);
}
