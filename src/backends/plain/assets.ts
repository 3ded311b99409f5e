import { asset } from '../../assets';

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
