import { ApiObject, Size } from 'cdk8s';
import { LIBRARY_SCRIPT_DIR } from '../library-containers';
import type { Construct } from 'constructs';
import type { ApprovedModel } from '../model/artifact';
import { BatchStep } from '../model/batch-step';
import type { StepInitContainer, StepSpec } from '../model/container-spec';
import { objectStoreEnv } from '../model/object-store';
import type { Gate } from '../model/gate';
import { dnsLabelProblem, imageReferenceProblem, shortHash } from '../model/names';
import { Pipeline } from '../model/pipeline';
import { isWholeNumberIn, shown } from '../model/values';
import { StepVolume } from '../model/step-volume';
import { promoteScript, registryS3Script } from '../backends/plain/assets';
import { DEFAULT_COORDINATOR_IMAGE } from '../backends/plain/plain-backend';
import type { IPromotionListener, PromotionRbacRule } from './promotion-hook';
import { RegistryAccess } from './registry';
import type { ModelRegistry } from './registry';

/** Where a promotion mounts the registry, read-write. */
export const PROMOTION_REGISTRY_MOUNT = '/mnt/registry';
/** Object store: where the promotion's containers hand over the lineage and the published version. */
const HANDOVER_DIR = '/run/mlops-promote';

/** Props of a `Promote` step. */
export interface PromoteProps {
  /**
   * The model to publish: `evaluate.approvedModel`. Only a gate makes one, so promoting a
   * model that skipped its evaluation does not compile.
   */
  readonly model: ApprovedModel;
  /**
   * Where to publish it: `ModelRegistry.fromClaimName(...)` (mounted read-write) or
   * `ModelRegistry.fromObjectStore(...)` (uploaded with the AWS CLI by an init container on the
   * registry's client image; the hooks then run on the utility image).
   */
  readonly registry: ModelRegistry;
  /** The model's folder in the registry, `<modelName>/<version>/`; servers name the same model. */
  readonly modelName: string;
  /**
   * What to tell once a version is published: model servers (an `image` runtime gets a
   * `kubectl rollout restart`, TensorFlow Serving polls its folder and needs nothing) and
   * any `PromotionHooks`. The promotion's ServiceAccount gets exactly what they need.
   * @default - nothing: servers that poll, or that a later rollout will restart
   */
  readonly notify?: IPromotionListener[];
  /**
   * Retries of the promotion pod (an API error while telling a server). A retry publishes
   * nothing new: it finds the version it published and tells the servers again.
   * @default 2
   */
  readonly retries?: number;
  /**
   * Image of the promotion: bash, coreutils and jq (and kubectl for the hooks).
   * @default 'registry.k8s.io/kubectl:v1.28.15' - the pipelines' utility image
   */
  readonly utilityImage?: string;
}

/** The promotion's containers: copying is bound by the volume or network, and jq and kubectl fit in little memory. */
const PROMOTE_RESOURCES = { cpu: { request: { amount: '50m' }, limit: { amount: '500m' } }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) } };

/**
 * Publishes an approved model into a model registry as `<model>/<integer version>/`, then
 * tells its servers. A library step (a Job on the utility image, restricted like every step),
 * ordered after the gate: a rejected model never reaches it, so it is never published, never
 * served.
 *
 * Atomic and idempotent (`assets/promote.sh`): the model is copied into a staging folder on
 * the registry's volume with `lineage.json` (run, job, step hash, metrics, thresholds, the
 * previous version), renamed to the next free version number in one rename, and `READY` is
 * written last. A model already published (same source folder, so same run and training
 * step hash) is not published again.
 *
 * @example
 * new Promote(pipeline, 'promote', {
 *   model: evaluate.approvedModel, registry, modelName: 'churn', notify: [server],
 * });
 */
export class Promote extends BatchStep {
  /** The model's folder in the registry. */
  public readonly modelName: string;
  /** The ServiceAccount the hooks run as; undefined when no hook needs the API. */
  public readonly serviceAccountName?: string;

  public constructor(scope: Construct, id: string, props: PromoteProps) {
    const image = props.utilityImage ?? DEFAULT_COORDINATOR_IMAGE;
    const hooks = (props.notify ?? []).flatMap((listener) => listener.promotionHooks());
    const rules = hooks.flatMap((h) => h.rules);
    const pipelineName = (Pipeline.isPipeline(scope) ? scope : Pipeline.of(scope)).pipelineName;
    const store = props.registry?.objectStore;
    const scripts: Record<string, string> = store ? { 'promote.sh': promoteScript(), 'registry-s3.sh': registryS3Script() } : { 'promote.sh': promoteScript() };
    // Named by the scripts' hash (the Job's hash covers the name): a new script is a new Job.
    const scriptConfigMap = `${pipelineName}-${id}-${shortHash(store ? scripts : promoteScript())}`;
    const version = `${HANDOVER_DIR}/version`;
    const lineage = `${HANDOVER_DIR}/lineage.json`;
    super(scope, id, {
      image,
      imagePullPolicy: 'IfNotPresent',
      containerName: 'promote',
      command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/promote.sh`, ...(store ? ['tell', version] : [])],
      retries: props.retries ?? 2,
      // Copying is bound by the volume, not the cpu; jq and kubectl fit in little memory.
      resources: PROMOTE_RESOURCES,
      volumes: [
        store
          ? { mountPath: HANDOVER_DIR, volume: StepVolume.emptyDir({ sizeLimit: Size.mebibytes(1) }) }
          : { mountPath: PROMOTION_REGISTRY_MOUNT, volume: StepVolume.fromClaimName(props.registry?.claimName ?? '') },
        { mountPath: LIBRARY_SCRIPT_DIR, volume: StepVolume.fromConfigMapName(scriptConfigMap), readOnly: true },
      ],
    });
    if (store) {
      this.initContainers.push(
        { name: 'lineage', image, command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/promote.sh`, 'lineage', lineage], env: {}, resources: PROMOTE_RESOURCES },
        {
          name: 'publish',
          image: store.clientImage,
          command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/registry-s3.sh`, 'publish', '$(MLOPS_INPUT_MODEL)', lineage, version],
          env: Object.fromEntries(objectStoreEnv(store, props.modelName).map(({ name, ...value }) => [name, value])),
          // The AWS CLI (Python) uploading a model: more memory than jq.
          resources: { cpu: { request: { amount: '100m' }, limit: { amount: '1' } }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) } },
        },
      );
    }
    const script = new ApiObject(this, 'Script', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: scriptConfigMap, labels: { 'app.kubernetes.io/component': 'promotion' } },
      data: scripts,
    });
    // The Job's pods cannot start before their script exists.
    this.node.addDependency(script);
    const fail = (message: string): never => {
      throw new Error(`[${this.node.path}] ${message}`);
    };
    this.modelName = props.modelName;
    const approved = props.model as ApprovedModel | undefined;
    // tsc stops a Model here; JavaScript callers get the same refusal at synth.
    if (!approved || approved.kind !== 'ApprovedModel') {
      throw new Error(`[${this.node.path}] 'model' is ${approved ? `the ${approved.kind} ${approved}` : shown(approved)}, not an approved model: `
        + 'promote only what a gate approved, e.g. model: evaluate.approvedModel');
    }
    const nameProblem = dnsLabelProblem(props.modelName);
    if (nameProblem) fail(`modelName '${props.modelName}' is not a valid model name: ${nameProblem}`);
    const registryProblem = props.registry.problem();
    if (registryProblem) fail(registryProblem);
    if (!store && props.registry.access === RegistryAccess.READ_ONLY_MANY) {
      fail(`registry claim '${props.registry.claimName}' is ReadOnlyMany, and promotion writes into it; `
        + 'promote through a ReadWriteMany (or ReadWriteOnce) claim of the same volume, and let servers read the ReadOnlyMany one');
    }
    const imageProblem = imageReferenceProblem(image);
    if (imageProblem) fail(`utilityImage: ${imageProblem}`);
    if (props.retries !== undefined && !isWholeNumberIn(props.retries, 0, 100)) {
      fail(`'retries' must be a whole number from 0 to 100, got ${shown(props.retries)}`);
    }
    for (const listener of props.notify ?? []) {
      if (listener.servedModel !== undefined && listener.servedModel !== props.modelName) {
        fail(`notify: a server of model '${listener.servedModel}' cannot follow promotions of '${props.modelName}'; `
          + `notify only servers of '${props.modelName}', or promote '${listener.servedModel}' in its own step`);
      }
    }

    const gate = approved.producer as Gate;
    this.addInput('model', approved);
    this.addInput('metrics', gate.inputs.metrics);
    // The version's folder the hooks get (MLOPS_VERSION_PATH) is below it: a path, or an s3:// URI.
    this.addLibraryEnv('MLOPS_REGISTRY_MODEL', { value: store ? `s3://${store.bucket}/${store.prefix === '' ? '' : `${store.prefix}/`}${props.modelName}` : `${PROMOTION_REGISTRY_MOUNT}/${props.modelName}` });
    this.addLibraryEnv('MLOPS_MODEL_NAME', { value: props.modelName });
    // The Job's name holds a hash of this spec, so it cannot be written into it: the Job
    // controller labels every pod with it (batch.kubernetes.io/job-name, Kubernetes 1.27+).
    this.addLibraryEnv('MLOPS_SELF', { valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } } });
    this.addLibraryEnv('MLOPS_GATE', { value: JSON.stringify({ step: gate.stepName, thresholds: gate.thresholds.map((t) => t.toJson()) }) });
    if (this.pipeline.runId !== undefined) this.addLibraryEnv('MLOPS_RUN_ID', { value: this.pipeline.runId });
    if (hooks.length > 0) {
      this.addLibraryEnv('MLOPS_PROMOTION_HOOKS', { value: JSON.stringify(hooks.map((h) => ({ description: h.description, command: h.command }))) });
    }
    if (rules.length > 0) this.serviceAccountName = this.declareIdentity(rules);
  }

  /** Object store: the upload's containers, run before the hooks' container. */
  private readonly initContainers: StepInitContainer[] = [];

  /** The hooks' identity: a ServiceAccount whose Role grants exactly the hooks' rules. */
  private declareIdentity(rules: readonly PromotionRbacRule[]): string {
    const name = `${this.pipeline.pipelineName}-${this.stepName}`;
    const labels = { 'app.kubernetes.io/component': 'promotion' };
    new ApiObject(this, 'ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, labels }, automountServiceAccountToken: false });
    new ApiObject(this, 'Role', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, labels }, rules: mergeRules(rules) });
    new ApiObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: this.pipeline.namespace }],
    });
    return name;
  }

  /** The step's container, running as the hooks' ServiceAccount with its token when a hook needs the API. */
  public override spec(): StepSpec {
    const spec = { ...super.spec(), initContainers: this.initContainers };
    if (this.serviceAccountName === undefined) return spec;
    return { ...spec, serviceAccount: { name: this.serviceAccountName }, automountServiceAccountToken: true };
  }
}

/** Rules on the same group, resource and verbs merged into one, names sorted: one readable grant per kind. */
function mergeRules(rules: readonly PromotionRbacRule[]): PromotionRbacRule[] {
  const merged = new Map<string, PromotionRbacRule>();
  for (const rule of rules) {
    const key = JSON.stringify([rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames === undefined]);
    const seen = merged.get(key);
    merged.set(key, seen && seen.resourceNames && rule.resourceNames
      ? { ...seen, resourceNames: [...new Set([...seen.resourceNames, ...rule.resourceNames])].sort() }
      : seen ?? rule);
  }
  return [...merged.values()];
}
