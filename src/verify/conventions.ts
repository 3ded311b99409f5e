/**
 * The labels and annotations cdk8s-mlops writes (docs/ordering.md), spelled out here again
 * rather than imported from the backends: verify reads YAML from any source and must not
 * depend on how it was produced.
 */
export const PIPELINE_LABEL = 'mlops.cdk8s.io/pipeline';
export const STEP_LABEL = 'mlops.cdk8s.io/step';
export const ROLE_LABEL = 'mlops.cdk8s.io/role';
export const COORDINATOR_ROLE = 'coordinator';
export const DEPENDS_ON_ANNOTATION = 'mlops.cdk8s.io/depends-on';
/** ConfigMap key holding the coordinator's plan: `<step>\t<job>\t<upstreams or ->` per line. */
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
 * its pod template), so one workload's exception does not hide another's mistake. The same
 * can be declared for all objects with the `external` option.
 */
export const EXTERNAL_REFS_ANNOTATION = 'mlops.cdk8s.io/external-refs';
