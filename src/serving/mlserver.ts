import type { Duration } from 'cdk8s';
import { READY_FILE } from './registry';
import type { RuntimeContainer } from './runtime';
import { CURRENT_VERSION_LINK } from './wait-for-version';

/** Options of the MLServer runtime. */
export interface MlserverOptions {
  /**
   * The inference runtime class MLServer loads the model with, e.g. 'mlserver_sklearn.SKLearnModel'
   * or 'mlserver_xgboost.XGBoostModel' (the model settings' `implementation`).
   */
  readonly implementation: string;
  /**
   * The MLServer image; it must hold the runtime of `implementation`, and `python` (the
   * reloader sidecar runs on it).
   * @default 'seldonio/mlserver:1.6.1' - every built-in runtime
   */
  readonly image?: string;
  /**
   * How often the reloader looks for a newly promoted version.
   * @default Duration.seconds(30) - a new version serves within half a minute of its promotion
   */
  readonly pollInterval?: Duration;
}

/** The image of MLServer unless told otherwise. */
export const DEFAULT_MLSERVER_IMAGE = 'seldonio/mlserver:1.6.1';
/** MLServer's default ports (mlserver/settings.py: http_port, grpc_port, metrics_port). */
const MLSERVER_HTTP_PORT = 8080;
const MLSERVER_GRPC_PORT = 8081;
const MLSERVER_METRICS_PORT = 8082;
/** Where the generated model settings are mounted: `mlserver start` reads this folder. */
export const MLSERVER_SETTINGS_DIR = '/etc/mlserver';

/**
 * The server container. Sources (SeldonIO/MLServer):
 * - docs/reference/model-settings.md, mlserver/settings.py: `model-settings.json` holds
 *   `name`, `implementation` and `parameters.uri`; `mlserver start <folder>` finds it below
 *   the folder (hidden folders, such as a ConfigMap's `..data`, are skipped by the glob);
 *   server settings come from `MLSERVER_*` variables.
 * - mlserver/handlers/model_repository.py, mlserver/registry.py: `POST
 *   /v2/repository/models/<name>/load` re-reads the settings and, for a model already
 *   loaded without a version, loads the new instance before unloading the old one; a
 *   load that raises leaves the old one serving.
 * - `GET /v2/models/<name>/ready` (KServe v2 protocol) answers 200 only while it is ready.
 * The model has no `version` in its settings: it is always "the" model, and the link it
 * reads (`MODEL_PATH`) decides which registry version that is.
 */
export function mlserverContainer(
  options: MlserverOptions, poll: Duration, model: string, modelPath: string, version: number | undefined, metricsPort: number | undefined,
): RuntimeContainer {
  const image = options.image ?? DEFAULT_MLSERVER_IMAGE;
  const settings = { name: model, implementation: options.implementation, parameters: { uri: CURRENT_VERSION_LINK } };
  return {
    image,
    command: ['mlserver', 'start', MLSERVER_SETTINGS_DIR],
    env: {
      MLSERVER_HTTP_PORT: String(MLSERVER_HTTP_PORT),
      MLSERVER_GRPC_PORT: String(MLSERVER_GRPC_PORT),
      MLSERVER_METRICS_PORT: String(metricsPort ?? MLSERVER_METRICS_PORT),
      // Both default to folders of the working directory, which a read-only root file system refuses.
      MLSERVER_METRICS_DIR: '/tmp/mlserver-metrics',
      MLSERVER_ENVIRONMENTS_DIR: '/tmp/mlserver-envs',
    },
    port: MLSERVER_HTTP_PORT,
    probePort: MLSERVER_HTTP_PORT,
    readinessPath: `/v2/models/${model}/ready`,
    livenessPath: '/v2/health/live',
    loadsAtStart: true,
    followsNewVersions: version === undefined,
    config: { mountPath: MLSERVER_SETTINGS_DIR, data: { 'model-settings.json': `${JSON.stringify(settings, null, 2)}\n` } },
    reloader: version === undefined ? {
      image,
      command: ['python', '-c', MLSERVER_RELOAD_SCRIPT, model, modelPath, CURRENT_VERSION_LINK, String(MLSERVER_HTTP_PORT), String(poll.toSeconds())],
    } : undefined,
  };
}

/** A Python class path: what MLServer imports as `implementation`. */
const PYTHON_CLASS_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** Why the MLServer options cannot work, or undefined. */
export function mlserverOptionsProblem(options: MlserverOptions): string | undefined {
  if (typeof options.implementation !== 'string' || !PYTHON_CLASS_PATH.test(options.implementation)) {
    return `mlserver 'implementation' must be the Python class of the model's runtime, such as 'mlserver_sklearn.SKLearnModel', got ${JSON.stringify(options.implementation)}`;
  }
  return undefined;
}

/**
 * The reloader sidecar (Python standard library only, on the MLServer image): every
 * interval, finds the highest integer version folder holding the ready file; when it is
 * not the one loaded, re-links `MODEL_PATH` to it (a new link renamed over the old, so the
 * server never sees a missing link) and calls MLServer's load API. A failed load is
 * retried on the next round; MLServer keeps serving the version it has meanwhile.
 * Arguments: model, model folder, link, http port, interval in seconds.
 */
export const MLSERVER_RELOAD_SCRIPT = `import os, re, sys, time, urllib.request
model, base, link, port, interval = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])

def highest():
    try:
        names = os.listdir(base)
    except OSError:
        return None
    ready = [n for n in names if re.fullmatch('[0-9]+', n) and os.path.isfile(os.path.join(base, n, '${READY_FILE}'))]
    return max(ready, key=int) if ready else None

loaded = os.path.basename(os.readlink(link))
while True:
    time.sleep(interval)
    found = highest()
    if found is None or found == loaded:
        continue
    fresh = link + '.new'
    if os.path.lexists(fresh):
        os.remove(fresh)
    os.symlink(os.path.join(base, found), fresh)
    os.replace(fresh, link)
    try:
        request = urllib.request.Request('http://127.0.0.1:%s/v2/repository/models/%s/load' % (port, model), data=b'', method='POST')
        urllib.request.urlopen(request, timeout=600).read()
        loaded = found
        print('serving version %s of %s' % (found, base), flush=True)
    except Exception as error:
        print('loading version %s of %s failed (%s); the loaded version keeps serving, retrying' % (found, base, error), flush=True)
`;
