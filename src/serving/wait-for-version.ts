import { READY_FILE } from './registry';

/** Where the chosen version is linked, in an emptyDir both containers mount. */
export const CURRENT_VERSION_DIR = '/run/mlops';
export const CURRENT_VERSION_LINK = `${CURRENT_VERSION_DIR}/model`;

/**
 * Init container script for runtimes that load a model once, at start: waits until the
 * model has a ready version (the pinned one, else the highest integer folder holding
 * `READY`), then links it where the server reads it. Until then the pod is not ready, so
 * the Service sends it no traffic. Bash builtins plus `sleep` and `ln` (coreutils): the
 * stock kubectl image has them. Arguments: model folder, pinned version or '', link.
 */
export const WAIT_FOR_VERSION_SCRIPT = `set -eu
base=$1 pinned=$2 link=$3
while :; do
  found=
  if [ -n "$pinned" ]; then
    if [ -f "$base/$pinned/${READY_FILE}" ]; then found=$pinned; fi
  else
    for dir in "$base"/*/; do
      v=\${dir%/}; v=\${v##*/}
      # Only integer folders with the ready file: a temp folder or a half-written version is not a version.
      [[ $v =~ ^[0-9]+$ ]] && [ -f "$base/$v/${READY_FILE}" ] || continue
      if [ -z "$found" ] || (( 10#$v > 10#$found )); then found=$v; fi
    done
  fi
  if [ -n "$found" ]; then
    ln -sfn "$base/$found" "$link"
    echo "serving version $found of $base"
    exit 0
  fi
  echo "no ready version \${pinned:-of any number} under $base yet; waiting"
  sleep 10
done
`;

/** The init container's command: the script and its arguments. */
export function waitForVersionCommand(modelPath: string, version: number | undefined): string[] {
  return ['bash', '-c', WAIT_FOR_VERSION_SCRIPT, 'wait-for-version', modelPath, version === undefined ? '' : String(version), CURRENT_VERSION_LINK];
}
