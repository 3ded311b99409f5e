import type { Duration } from 'cdk8s';
import type { RuntimeContainer } from './runtime';
import { CURRENT_VERSION_DIR, CURRENT_VERSION_LINK, WAIT_FOR_VERSION_SCRIPT } from './wait-for-version';

/** Options of the Triton runtime. */
export interface TritonOptions {
  /**
   * The Triton image.
   * @default 'nvcr.io/nvidia/tritonserver:24.08-py3'
   */
  readonly image?: string;
  /**
   * How often Triton re-reads the model's folder for new versions (`--repository-poll-secs`).
   * @default Duration.seconds(30) - a new version serves within half a minute of its promotion,
   * without hammering a network file system
   */
  readonly pollInterval?: Duration;
}

/** The image of Triton unless told otherwise. */
export const DEFAULT_TRITON_IMAGE = 'nvcr.io/nvidia/tritonserver:24.08-py3';
/** Triton's default ports (docs/user_guide/model_repository.md, "tritonserver --help"). */
const TRITON_HTTP_PORT = 8000;
const TRITON_GRPC_PORT = 8001;
/**
 * Triton's model repository inside the pod: one entry, the model, so a registry holding
 * other models does not make Triton load them all (POLL and NONE load every model of the
 * repository, docs/user_guide/model_management.md).
 */
export const TRITON_REPOSITORY = `${CURRENT_VERSION_DIR}/repository`;

/**
 * The server container. Sources (triton-inference-server/server):
 * - docs/user_guide/model_repository.md: layout `<repository>/<model>/<version>/`, version
 *   folders are integers, other names are ignored; `config.pbtxt` beside them.
 * - docs/user_guide/model_configuration.md, "Version Policy": the default is `latest` with
 *   `num_versions: 1`, so Triton serves the highest version folder.
 * - docs/user_guide/model_management.md: `--model-control-mode=poll` with
 *   `--repository-poll-secs` loads added versions and unloads removed ones; when a new
 *   version fails to load, the version already loaded keeps serving. NONE loads once.
 * - docs/user_guide/metrics.md: Prometheus metrics on `--metrics-port` (8002) at `/metrics`
 *   unless `--allow-metrics=false`.
 * - docs/protocol/extension_model_repository.md / the KServe v2 protocol:
 *   `GET /v2/models/<model>/ready` answers 200 only while a version is ready;
 *   `GET /v2/health/live` while the process is alive.
 */
export function tritonContainer(
  options: TritonOptions, poll: Duration, model: string, modelPath: string, version: number | undefined, metricsPort: number | undefined,
): RuntimeContainer {
  return {
    image: options.image ?? DEFAULT_TRITON_IMAGE,
    command: ['tritonserver'],
    args: [
      `--model-repository=${TRITON_REPOSITORY}`,
      ...(version === undefined
        ? ['--model-control-mode=poll', `--repository-poll-secs=${poll.toSeconds()}`]
        : ['--model-control-mode=none']),
      // A version that fails to load leaves the pod running but not ready (its readiness
      // probe tells) instead of a crash loop.
      '--exit-on-error=false',
      `--http-port=${TRITON_HTTP_PORT}`,
      `--grpc-port=${TRITON_GRPC_PORT}`,
      // Metrics on the port the server's `metrics` names (Prometheus scrapes it), else none.
      ...(metricsPort === undefined ? ['--allow-metrics=false'] : [`--metrics-port=${metricsPort}`]),
    ],
    env: {},
    port: TRITON_HTTP_PORT,
    probePort: TRITON_HTTP_PORT,
    readinessPath: `/v2/models/${model}/ready`,
    livenessPath: '/v2/health/live',
    loadsAtStart: true,
    followsNewVersions: version === undefined,
    initCommand: tritonRepositoryCommand(modelPath, version, model),
  };
}

/**
 * Init container script building Triton's one-model repository once a ready version
 * exists (the wait script, passed as `$1`, waits and picks it). Following the latest, the
 * repository entry is a link to the model's registry folder: Triton's poll sees every
 * version folder, as promotion renames them in complete. Pinned, the entry is a folder
 * holding links to the pinned version and the model-level files (`config.pbtxt`, labels),
 * so Triton sees that version only. Bash builtins plus `ln` and `mkdir` (coreutils).
 * Arguments: wait script, model folder, pinned version or '', chosen-version link,
 * repository, model name.
 */
export const TRITON_REPOSITORY_SCRIPT = `set -eu
wait=$1 base=$2 pinned=$3 chosen=$4 repo=$5 model=$6
bash -c "$wait" wait-for-version "$base" "$pinned" "$chosen"
mkdir -p "$repo"
if [ -z "$pinned" ]; then
  ln -sfn "$base" "$repo/$model"
else
  mkdir -p "$repo/$model"
  for f in "$base"/*; do
    if [ -f "$f" ]; then ln -sfn "$f" "$repo/$model/\${f##*/}"; fi
  done
  ln -sfn "$base/$pinned" "$repo/$model/$pinned"
fi
echo "triton repository $repo/$model ready"
`;

/** The init container's command: the script and its arguments. */
export function tritonRepositoryCommand(modelPath: string, version: number | undefined, model: string): string[] {
  return ['bash', '-c', TRITON_REPOSITORY_SCRIPT, 'triton-repository', WAIT_FOR_VERSION_SCRIPT, modelPath,
    version === undefined ? '' : String(version), CURRENT_VERSION_LINK, TRITON_REPOSITORY, model];
}
