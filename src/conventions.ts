/**
 * The labels, annotations and keys of the plain-Kubernetes contract (docs/ordering.md):
 * what the plain backend writes, the coordinator script reads, and `verify` and the
 * simulator check. One definition, so the writer and the checkers cannot drift apart.
 * (The script spells them out too; the simulation tests prove it agrees.)
 */

/** On every object of a pipeline: the pipeline's name. The coordinator lists Jobs by it. */
export const PIPELINE_LABEL = 'mlops.cdk8s.io/pipeline';
/** On step Jobs and their pods: the step's name. */
export const STEP_LABEL = 'mlops.cdk8s.io/step';
/**
 * On the Jobs (and pods) of one run of a pipeline with runs: the run id, its coordinator
 * Job's name. Set by the run's prelude (assets/start-run.sh; docs/coordinator-contract.md, "Runs").
 */
export const RUN_LABEL = 'mlops.cdk8s.io/run';
/** On the coordinator's objects: `coordinator`. */
export const ROLE_LABEL = 'mlops.cdk8s.io/role';
export const COORDINATOR_ROLE = 'coordinator';
/** The coordinator pod's volume of its ConfigMap (script and `plan`); `status` finds the plan through it. */
export const COORDINATOR_SCRIPT_VOLUME = 'script';
/** On step Jobs: upstream step names, comma-separated and sorted; absent without upstream. */
export const DEPENDS_ON_ANNOTATION = 'mlops.cdk8s.io/depends-on';
/** Written by the coordinator on a step it will never start, with the reason. */
export const SKIPPED_ANNOTATION = 'mlops.cdk8s.io/skipped';
/**
 * Written by the coordinator on its own Job: its ledger, the final state of every plan
 * position, encoded as docs/coordinator-contract.md ("The ledger") says.
 */
export const LEDGER_ANNOTATION = 'mlops.cdk8s.io/ledger';
/** Beside the ledger: reasons a Job does not keep itself, `{"<position>": "<reason>"}`. */
export const LEDGER_NOTES_ANNOTATION = 'mlops.cdk8s.io/ledger-notes';
/** Beside the ledger: values waiting consumers still need, `{"<position>": {<name>: <value>}}`. */
export const LEDGER_VALUES_ANNOTATION = 'mlops.cdk8s.io/ledger-values';
/** Written by the coordinator into an exit handler's pod template before release: `succeeded`, `failed` or `rejected`. */
export const RUN_STATUS_ANNOTATION = 'mlops.cdk8s.io/run-status';
/** Written with the run status: a JSON list of `{step, reason}`, one per failed or failure-skipped step. */
export const RUN_FAILURES_ANNOTATION = 'mlops.cdk8s.io/run-failures';
/**
 * Written by the coordinator into the pod template of a node whose trigger rule is not
 * `all-succeeded`, before release: compact JSON `{step: final state}` of its upstream steps.
 */
export const UPSTREAM_STATES_ANNOTATION = 'mlops.cdk8s.io/upstream-states';
/**
 * Written by a step's reporter container on its own Job: the step's values as one compact
 * JSON object `{name: value}`, at most 4096 bytes (docs/coordinator-contract.md, "Values").
 */
export const VALUES_ANNOTATION = 'mlops.cdk8s.io/values';
/**
 * Written by the coordinator into a consumer's pod template before release, one per value
 * read: `in.mlops.cdk8s.io/<alias>`, read by the step as `MLOPS_VALUE_<ALIAS>`.
 */
export const VALUE_IN_ANNOTATION_PREFIX = 'in.mlops.cdk8s.io/';
/**
 * Written by a library container (the values reporter) on its own Job before it fails the
 * step on purpose: the reason, which the coordinator shows instead of the Job's
 * `PodFailurePolicy` condition reason.
 */
export const FAILURE_REASON_ANNOTATION = 'mlops.cdk8s.io/failure-reason';
/** Key of the coordinator ConfigMap holding the plan: `<step>\t<job>\t<upstreams or ->` per line. */
export const PLAN_KEY = 'plan';

/**
 * Annotation by which a workload (or a RoleBinding) declares what it deliberately uses from
 * outside the manifests, so a reference to something the manifests do not create is not
 * reported as dangling. Value: comma-separated `kind/name`, kind in lowercase singular:
 *
 *     mlops.cdk8s.io/external-refs: "secret/ml-credentials,persistentvolumeclaim/data"
 *
 * Kinds: secret, configmap, persistentvolumeclaim (or pvc), serviceaccount, role,
 * clusterrole. The name may be `namespace/name` for a ServiceAccount bound from another
 * namespace. It applies only to the object that carries it (on a workload, also read from
 * its pod template), so one workload's exception does not hide another's mistake.
 */
export const EXTERNAL_REFS_ANNOTATION = 'mlops.cdk8s.io/external-refs';
