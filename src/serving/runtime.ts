import { Duration } from 'cdk8s';
import { mlserverContainer, MlserverOptions, mlserverOptionsProblem } from './mlserver';
import { tritonContainer, TritonOptions } from './triton';
import { CURRENT_VERSION_LINK } from './wait-for-version';

/** What a runtime puts in the server's container, given the model and its registry folder. */
export interface RuntimeContainer {
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env: Record<string, string>;
  /** The port clients call. */
  readonly port: number;
  /** The port the probes call: the serving port, or the metrics port. */
  readonly probePort: number;
  /** HTTP path that answers 200 only while a model version is loaded. */
  readonly readinessPath: string;
  /** HTTP path that answers while the process is healthy; undefined: a TCP check on the probe port. */
  readonly livenessPath?: string;
  /**
   * Whether the server loads one version at start (an init container then waits for a
   * ready version and links it), rather than finding versions itself.
   */
  readonly loadsAtStart: boolean;
  /**
   * Whether a newly published version reaches the running server without a restart (it
   * polls the registry, or its reloader tells it); false when only new pods load it, so a
   * promotion restarts the Deployment. Always false when pinned to a version.
   */
  readonly followsNewVersions: boolean;
  /**
   * The init container's command when `loadsAtStart`.
   * @default - wait for a ready version and link it at `MODEL_PATH` (wait-for-version.ts)
   */
  readonly initCommand?: string[];
  /** Files the server reads, rendered as a ConfigMap mounted read-only at `mountPath`; undefined: none. */
  readonly config?: RuntimeConfig;
  /**
   * A container beside the server that brings each new version to it (a load call), for
   * servers that neither poll the registry nor restart; undefined when none is needed.
   */
  readonly reloader?: RuntimeReloader;
}

/** Files a runtime reads, as ConfigMap data (file name -> content). */
export interface RuntimeConfig {
  readonly mountPath: string;
  readonly data: Record<string, string>;
}

/** The sidecar that re-links the chosen version and asks the server to load it. */
export interface RuntimeReloader {
  readonly image: string;
  readonly command: string[];
}

/** Options of the TensorFlow Serving runtime. */
export interface TensorflowServingOptions {
  /**
   * The TensorFlow Serving image.
   * @default 'tensorflow/serving:2.14.1'
   */
  readonly image?: string;
  /**
   * How often TensorFlow Serving looks for new version folders.
   * @default Duration.seconds(30) - a new version serves within half a minute of its promotion,
   * without hammering a network file system
   */
  readonly pollInterval?: Duration;
}

/** Options of a runtime on any image. */
export interface ImageRuntimeOptions {
  /** The image, e.g. 'ghcr.io/acme/churn-server:1.4.0'. */
  readonly image: string;
  /**
   * The port the server listens on for requests.
   * @default 8080
   */
  readonly port?: number;
  /**
   * HTTP path answering 200 once the model is loaded (the readiness probe).
   * @default '/'
   */
  readonly readinessPath?: string;
  /**
   * HTTP path answering 200 while the process is healthy (the liveness probe).
   * @default - a TCP check on the probe port: a slow model load does not get the container killed
   */
  readonly livenessPath?: string;
  /**
   * The port the probes call, when the server answers them on its metrics port.
   * @default - the serving port
   */
  readonly probePort?: number;
  /**
   * Entrypoint override.
   * @default - the image's
   */
  readonly command?: string[];
  /**
   * Arguments.
   * @default - the image's CMD
   */
  readonly args?: string[];
}

/** The image of TensorFlow Serving unless told otherwise. */
export const DEFAULT_TF_SERVING_IMAGE = 'tensorflow/serving:2.14.1';
const TF_REST_PORT = 8501;
const TF_GRPC_PORT = 8500;

/**
 * How a model server finds and loads versions from the registry. A new version reaches it
 * the way the runtime expects: TensorFlow Serving and Triton poll the model folder and
 * switch to a higher version by themselves; MLServer is told by a generated reloader
 * sidecar through its load API; any other image loads the version found at start, so
 * `kubectl rollout restart` picks up a new one.
 */
export class ServingRuntime {
  /**
   * TensorFlow Serving's REST API on port 8501, with `--model_base_path` on the model's
   * registry folder: it serves the highest integer version and polls for new ones. Readiness
   * is `GET /v1/models/<model>`, which fails until a version is loaded.
   */
  public static tensorflowServing(options: TensorflowServingOptions = {}): ServingRuntime {
    const poll = options.pollInterval ?? Duration.seconds(30);
    return new ServingRuntime('tensorflowServing', poll, (model, modelPath, version) => ({
      image: options.image ?? DEFAULT_TF_SERVING_IMAGE,
      command: ['tensorflow_model_server'],
      args: [
        `--port=${TF_GRPC_PORT}`,
        `--rest_api_port=${TF_REST_PORT}`,
        ...(version === undefined
          ? [`--model_name=${model}`, `--model_base_path=${modelPath}`]
          : [`--model_config_file=${TF_CONFIG_PATH}`]),
        `--file_system_poll_wait_seconds=${poll.toSeconds()}`,
      ],
      env: {},
      port: TF_REST_PORT,
      probePort: TF_REST_PORT,
      readinessPath: `/v1/models/${model}`,
      loadsAtStart: false,
      followsNewVersions: version === undefined,
      config: version === undefined ? undefined : { mountPath: TF_CONFIG_DIR, data: { 'models.config': tfServingPinnedConfig(model, modelPath, version) } },
    }));
  }

  /**
   * Any image serving one model version: it gets `MODEL_PATH` (the chosen version's folder,
   * read-only), `MODEL_NAME`, `MODEL_VERSION_LINK` and `MODEL_BASE_PATH` (the model's folder
   * of integer versions). An init container waits until a ready version exists and links it
   * at `MODEL_PATH`; a new version needs `kubectl rollout restart deployment/<server>`.
   */
  public static image(options: ImageRuntimeOptions): ServingRuntime {
    const port = options.port ?? 8080;
    return new ServingRuntime('image', undefined, (model, modelPath) => ({
      image: options.image,
      command: options.command,
      args: options.args,
      env: { MODEL_NAME: model, MODEL_BASE_PATH: modelPath, MODEL_PATH: CURRENT_VERSION_LINK },
      port,
      probePort: options.probePort ?? port,
      readinessPath: options.readinessPath ?? '/',
      livenessPath: options.livenessPath,
      loadsAtStart: true,
      followsNewVersions: false,
    }));
  }

  /**
   * NVIDIA Triton Inference Server, HTTP on 8000 (gRPC 8001 inside the pod only). Triton
   * finds new versions itself: its repository is the model's registry folder, which it
   * re-reads every `pollInterval` (`--model-control-mode=poll`, `--repository-poll-secs`),
   * serving the highest integer version folder (the default `version_policy`, latest 1).
   * No sidecar and no load call. A pinned `version` (the rollback) shows Triton that version
   * only, loaded once at start (`--model-control-mode=none`). Readiness is
   * `GET /v2/models/<model>/ready`. The server's `metrics` port becomes Triton's
   * `--metrics-port`; without it Triton serves no metrics. See triton.ts for the sources.
   */
  public static triton(options: TritonOptions = {}): ServingRuntime {
    const poll = options.pollInterval ?? Duration.seconds(30);
    return new ServingRuntime('triton', poll, (model, modelPath, version, metricsPort) => tritonContainer(options, poll, model, modelPath, version, metricsPort));
  }

  /**
   * Seldon MLServer, HTTP on 8080 (gRPC 8081 inside the pod only). MLServer has no file
   * watcher, so the generated model settings point it at a link to the chosen version, and
   * a small reloader sidecar (Python, on the MLServer image itself) re-links a newly
   * promoted version and calls MLServer's repository API,
   * `POST /v2/repository/models/<model>/load`, which loads the new version before it
   * unloads the old one. A pinned `version` has no reloader. Readiness is
   * `GET /v2/models/<model>/ready`. The server's `metrics` port becomes
   * `MLSERVER_METRICS_PORT` (default 8082). See mlserver.ts for the sources.
   */
  public static mlserver(options: MlserverOptions): ServingRuntime {
    const poll = options.pollInterval ?? Duration.seconds(30);
    return new ServingRuntime('mlserver', poll, (model, modelPath, version, metricsPort) => mlserverContainer(options, poll, model, modelPath, version, metricsPort),
      mlserverOptionsProblem(options));
  }

  private constructor(
    /** Which preset this is. */
    public readonly kind: 'tensorflowServing' | 'triton' | 'mlserver' | 'image',
    /** How often the runtime looks for new versions; undefined when it does not. */
    public readonly pollInterval: Duration | undefined,
    private readonly build: (model: string, modelPath: string, version: number | undefined, metricsPort: number | undefined) => RuntimeContainer,
    /** What is wrong with the preset's own options, found when it was made. */
    private readonly optionsProblem?: string,
  ) {}

  /**
   * The container settings for `model`, served from `modelPath`, pinned to `version` if
   * given; servers with their own metrics endpoint serve it on `metricsPort` if given.
   */
  public containerFor(model: string, modelPath: string, version?: number, metricsPort?: number): RuntimeContainer {
    return this.build(model, modelPath, version, metricsPort);
  }

  /** Why the runtime's settings cannot work, or undefined. */
  public problem(): string | undefined {
    if (this.optionsProblem) return this.optionsProblem;
    if (this.pollInterval) {
      // toSeconds() throws on a fraction; a fraction is what the message must name.
      const seconds = this.pollInterval.toMilliseconds() / 1000;
      if (!Number.isInteger(seconds) || seconds < 1) {
        return `'pollInterval' must be a whole number of seconds of at least 1 (0 would stop ${RUNTIME_NAMES[this.kind]} from ever seeing a new version), got ${seconds}`;
      }
    }
    return undefined;
  }
}

const RUNTIME_NAMES = { tensorflowServing: 'TensorFlow Serving', triton: 'Triton', mlserver: 'MLServer', image: 'the server' } as const;

/** Where the TensorFlow Serving model config (a pinned version) is mounted. */
export const TF_CONFIG_DIR = '/etc/tfserving';
export const TF_CONFIG_PATH = `${TF_CONFIG_DIR}/models.config`;

/**
 * TensorFlow Serving's model config pinning one version: the rollback. `specific { versions }`
 * (tensorflow_serving/config/model_server_config.proto, g3doc/serving_config.md).
 */
export function tfServingPinnedConfig(model: string, modelPath: string, version: number): string {
  return [
    'model_config_list {',
    '  config {',
    `    name: "${model}"`,
    `    base_path: "${modelPath}"`,
    '    model_platform: "tensorflow"',
    `    model_version_policy { specific { versions: ${version} } }`,
    '  }',
    '}',
    '',
  ].join('\n');
}
