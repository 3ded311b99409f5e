/**
 * How a container of the library's own (the coordinator, a gate, a values reporter, a
 * promotion, a sweep's selection, the prune step) is made and recognised. The backends and
 * serving write these; `verify` and the simulator recognise a library container by them
 * (src/verify/simulator/library-pods.ts) and run its script for real. One definition, so
 * what is written and what is recognised cannot drift apart.
 */

/** The label on every object the library makes (the Pipeline chart's labels, a BatchInference's). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Its value: a ConfigMap carrying it holds scripts the library ships. */
export const MANAGED_BY_LIBRARY = 'cdk8s-mlops';

/** The library container that reports a step's values on its own Job. */
export const REPORTER_CONTAINER = 'report-values';
/** The library init container that creates a step's output directories before it starts. */
export const PREPARE_OUTPUTS_CONTAINER = 'prepare-outputs';
/** Containers the backend adds to a step's pod; the step's own must be named otherwise. */
export const LIBRARY_CONTAINER_NAMES: readonly string[] = [PREPARE_OUTPUTS_CONTAINER, REPORTER_CONTAINER];

/** Where in-cluster clients (kubectl among them) read the pod's ServiceAccount token, CA and namespace. */
export const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where a library container mounts the ConfigMap holding its script (and the coordinator its plan and templates). */
export const LIBRARY_SCRIPT_DIR = '/etc/mlops';
/** Where `registry-s3.sh` is mounted beside another library script (a gate's baseline fetch, a server's pull and sync). */
export const REGISTRY_SCRIPT_DIR = '/etc/mlops-registry';
