import { READY_FILE } from './registry';

/** Where the chosen version is linked, in an emptyDir both containers mount. */
export const CURRENT_VERSION_DIR = '/run/mlops';
export const CURRENT_VERSION_LINK = `${CURRENT_VERSION_DIR}/model`;
/** Beside the link: the chosen version's number, for containers that report or record it. */
export const CURRENT_VERSION_FILE = `${CURRENT_VERSION_DIR}/version`;

/** Exit code of the script when no ready version exists and it was told not to wait. */
export const EXIT_NO_READY_VERSION = 3;

/** What the script does while no ready version exists. */
export type MissingVersion = 'wait' | 'fail';

/**
 * Init container script for workloads that load a model once, at start (a server on any
 * image, a batch inference): finds the model's ready version (the pinned one, else the
 * highest integer folder holding `READY`), links it where the workload reads it and writes
 * its number beside the link. While there is none, it waits (a server: the pod is not
 * ready, so the Service sends it no traffic) or exits 3 with the reason (a batch run: the
 * Job fails at once and the next scheduled run tries again). Bash builtins plus `sleep`
 * and `ln` (coreutils): the stock kubectl image has them. Arguments: model folder, pinned
 * version or '', link, and `wait` or `fail`.
 */
export const WAIT_FOR_VERSION_SCRIPT = `set -eu
base=$1 pinned=$2 link=$3 missing=\${4:-wait}
while :; do
  found= incomplete=
  if [ -n "$pinned" ]; then
    if [ -f "$base/$pinned/${READY_FILE}" ]; then found=$pinned; elif [ -d "$base/$pinned" ]; then incomplete=" $pinned"; fi
  else
    for dir in "$base"/*/; do
      v=\${dir%/}; v=\${v##*/}
      # Only integer folders with the ready file: a temp folder or a half-written version is not a version.
      [[ $v =~ ^[0-9]+$ ]] || continue
      if [ ! -f "$base/$v/${READY_FILE}" ]; then incomplete+=" $v"; continue; fi
      if [ -z "$found" ] || (( 10#$v > 10#$found )); then found=$v; fi
    done
  fi
  if [ -n "$found" ]; then
    ln -sfn "$base/$found" "$link"
    echo "$found" > "\${link%/*}/version"
    echo "serving version $found of $base"
    exit 0
  fi
  why="no ready version \${pinned:-of any number} under $base\${incomplete:+ (without ${READY_FILE}, still being written:$incomplete)}"
  if [ "$missing" = fail ]; then
    echo "$why: nothing to load; publish an approved version, or pin one that is ready" >&2
    exit ${EXIT_NO_READY_VERSION}
  fi
  echo "$why yet; waiting"
  sleep 10
done
`;

/** The script's arguments, $1 to $4 ($4 left out when it is the default, `wait`). */
export function waitForVersionArgs(modelPath: string, version: number | undefined, missing: MissingVersion): string[] {
  return [modelPath, version === undefined ? '' : String(version), CURRENT_VERSION_LINK, ...(missing === 'wait' ? [] : [missing])];
}

/** The init container's command for a server: the script inline (`$0` names it in messages), waiting for a version. */
export function waitForVersionCommand(modelPath: string, version: number | undefined): string[] {
  return ['bash', '-c', WAIT_FOR_VERSION_SCRIPT, 'wait-for-version', ...waitForVersionArgs(modelPath, version, 'wait')];
}
