import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { EXTERNAL_REFS_ANNOTATION } from '../conventions';
import { LIBRARY_SCRIPT_DIR, MANAGED_BY_LABEL, MANAGED_BY_LIBRARY } from '../library-containers';
import type { StepSecurity } from '../model/container-spec';
import { cronJobNameProblem } from '../model/cron';
import { wholeSecondsProblem } from '../model/durations';
import { dnsLabelProblem, imageReferenceProblem } from '../model/names';
import { checkResources, resolveResources, toQuantities } from '../model/resources';
import { PipelineRuns } from '../model/schedule';
import { isWholeNumberIn, shown } from '../model/values';
import type * as k8s from '../backends/plain/k8s-types';
import { DEFAULT_COORDINATOR_IMAGE } from '../backends/plain/plain-backend';
import { cronJobSpec } from '../backends/plain/scheduled-run';
import { containerSecurityContext, podSecurityContext } from '../backends/plain/security';
import type { BatchData } from './batch-data';
import { BATCH_CLAIMS_MOUNT } from './batch-data';
import type { BatchInferenceProps } from './batch-inference-props';
import { MODEL_LABEL } from './model-server';
import { resolvePodSecurity } from './pod-security';
import { OBJECT_STORE_SCRIPT } from '../model/object-store';
import { registryS3Script } from '../backends/plain/assets';
import { objectStoreClientContainer } from '../backends/plain/object-store-client';
import { REGISTRY_MOUNT, RegistryAccess } from './registry';
import { printWarningsAtSynth } from './synth-warnings';
import {
  CURRENT_VERSION_DIR, CURRENT_VERSION_FILE, CURRENT_VERSION_LINK, EXIT_NO_READY_VERSION, WAIT_FOR_VERSION_SCRIPT, waitForVersionArgs,
} from './wait-for-version';

const DEFAULT_RETRIES = 2;
const DEFAULT_TIMEOUT_SECONDS = 3600;
const SCRIPT_KEY = 'pick-version.sh';
const PICK_VERSION = 'pick-version';
/** Object store: the init container that downloads the version before pick-version links it. */
const PULL_MODEL = 'pull-model';
/** Kubernetes env names (pkg/apis/core/validation: IsEnvVarName). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The variables the scoring container gets; user env may not redefine them. */
const DOCUMENTED_ENV = ['MLOPS_RUN', 'MODEL_NAME', 'MODEL_BASE_PATH', 'MODEL_PATH', 'MODEL_VERSION_FILE', 'INPUT_PATH', 'INPUT_URI', 'OUTPUT_PATH', 'OUTPUT_URI', 'HOME'];

/**
 * Batch scoring on a schedule with a model's approved versions: a CronJob whose every run
 * picks the registry's highest ready version (or the pinned one), then runs your image on
 * the input and writes scores into a folder of its own. No ready version fails the run at
 * once, with the reason, instead of holding a pod; the next scheduled run tries again.
 * Pods meet the "restricted" Pod Security Standard and mount no service account token.
 */
export class BatchInference extends Construct {
  /** Name of the CronJob; its runs' Jobs are `<name>-<unix minutes of the scheduled time>`. */
  public readonly name: string;
  /** Trade-offs worth knowing, printed at synth. */
  public readonly warnings: string[] = [];

  public constructor(scope: Construct, id: string, props: BatchInferenceProps) {
    super(scope, id);
    const fail = (message: string): never => {
      throw new Error(`[${this.node.path}] ${message}`);
    };
    this.name = props.name ?? id;
    const nameProblem = cronJobNameProblem(this.name) ?? dnsLabelProblem(this.name);
    if (nameProblem) fail(`name '${this.name}' cannot name a CronJob: ${nameProblem}; set 'name', or use a shorter construct id`);
    // Compile time refuses a Model that skipped its gate; this catches JavaScript callers and casts.
    const approved = props.approvedModel as { kind?: unknown } | undefined;
    if (approved?.kind !== 'ApprovedModel') {
      const what = typeof approved?.kind === 'string' ? `${String(approved)}, a ${approved.kind}` : shown(approved);
      fail(`'approvedModel' is ${what}, not an ApprovedModel: batch inference scores only with versions a gate approved; pass evaluate.approvedModel`);
    }
    const modelProblem = dnsLabelProblem(props.model);
    if (modelProblem) fail(`model '${props.model}' is not a valid model name: ${modelProblem}`);
    const registryProblem = props.registry.problem();
    if (registryProblem) fail(registryProblem);
    if (!props.schedule) fail('\'schedule\' is missing: say when runs start, e.g. schedule: { cron: \'5 * * * *\' } for every hour at :05');
    const runs = PipelineRuns.resolve(props.schedule, undefined, fail)!;
    const imageProblem = imageReferenceProblem(props.image);
    if (imageProblem) fail(`image: ${imageProblem}`);
    const utilityImage = props.utilityImage ?? DEFAULT_COORDINATOR_IMAGE;
    const utilityProblem = imageReferenceProblem(utilityImage);
    if (utilityProblem) fail(`utilityImage: ${utilityProblem}`);
    for (const [prop, data] of [['input', props.input], ['output', props.output]] as const) {
      const problem = data ? data.problem(prop) : `'${prop}' is missing: use BatchData.fromClaim(claim, folder) or BatchData.fromUri('s3://...')`;
      if (problem) fail(problem);
    }
    if (props.version !== undefined && !isWholeNumberIn(props.version, 0, Number.MAX_SAFE_INTEGER)) {
      fail(`'version' must be a whole, non-negative number (a version folder of the registry), got ${shown(props.version)}`);
    }
    const retries = props.retries ?? DEFAULT_RETRIES;
    if (!isWholeNumberIn(retries, 0, 100)) fail(`'retries' must be a whole number from 0 to 100, got ${shown(retries)}`);
    const timeoutProblem = props.timeout && wholeSecondsProblem('timeout', props.timeout);
    if (timeoutProblem) fail(timeoutProblem);
    for (const key of Object.keys(props.env ?? {})) {
      if (DOCUMENTED_ENV.includes(key)) fail(`env '${key}' is set by BatchInference itself (docs/serving.md); use another name`);
      if (!ENV_NAME.test(key)) fail(`env name '${key}' is not a valid variable name: use letters, digits, '_', '-' and '.', not starting with a digit`);
    }
    const security = resolvePodSecurity(props.security, fail);
    const resources = resolveResources(props.resources);
    for (const problem of checkResources(resources)) fail(problem);
    if (props.registry.access === RegistryAccess.READ_WRITE_ONCE) {
      // A registry is shared by definition (a promotion writes it, servers read it), and a
      // CronJob's pods are scheduled anew each run, on any node.
      this.warnings.push(`registry claim '${props.registry.claimName}' is ReadWriteOnce and each run's pod may land on any node: `
        + 'while another node holds the volume (the model server\'s replicas, a promotion) the run waits in ContainerCreating '
        + '(Multi-Attach error) until its timeout stops it; use a ReadWriteMany or ReadOnlyMany claim of the registry');
    }
    printWarningsAtSynth(this, this.warnings);

    const labels = {
      'app.kubernetes.io/name': this.name,
      'app.kubernetes.io/component': 'batch-inference',
      // The library's own script runs in the pod (verify and the simulator recognise it by this label).
      [MANAGED_BY_LABEL]: MANAGED_BY_LIBRARY,
      [MODEL_LABEL]: props.model,
    };
    const script = new ApiObject(this, 'Script', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${this.name}-${PICK_VERSION}`, labels },
      data: { [SCRIPT_KEY]: WAIT_FOR_VERSION_SCRIPT, ...(props.registry.objectStore && { [OBJECT_STORE_SCRIPT]: registryS3Script() }) },
    });
    const cronJob = new ApiObject(this, 'Resource', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: this.name, labels, annotations: { [EXTERNAL_REFS_ANNOTATION]: externalRefs(props) } },
      spec: cronJobSpec(runs, {
        metadata: { labels },
        spec: this.jobSpec(props, { labels, security, retries, utilityImage, script: script.name, quantities: toQuantities(resources) }),
      }),
    });
    cronJob.addDependency(script);
  }

  private jobSpec(props: BatchInferenceProps, o: {
    labels: Record<string, string>; security: Required<StepSecurity>; retries: number; utilityImage: string; script: string;
    quantities: { requests: Record<string, string>; limits: Record<string, string> };
  }): k8s.JobSpec {
    const modelPath = `${REGISTRY_MOUNT}/${props.model}`;
    const output = `${props.output.location()}/$(MLOPS_RUN)`;
    // The run's Job name: `<name>-<unix minutes of the scheduled time>` for a scheduled run (the CronJob controller names it).
    const runEnv: k8s.EnvVar = { name: 'MLOPS_RUN', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } } };
    const env: k8s.EnvVar[] = [
      runEnv,
      { name: 'MODEL_NAME', value: props.model },
      { name: 'MODEL_BASE_PATH', value: modelPath },
      { name: 'MODEL_PATH', value: CURRENT_VERSION_LINK },
      { name: 'MODEL_VERSION_FILE', value: CURRENT_VERSION_FILE },
      { name: props.input.uri !== undefined ? 'INPUT_URI' : 'INPUT_PATH', value: props.input.location() },
      // $(MLOPS_RUN) is expanded by the kubelet from the variable above.
      { name: props.output.uri !== undefined ? 'OUTPUT_URI' : 'OUTPUT_PATH', value: output },
      { name: 'HOME', value: '/tmp' },
      ...Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value })),
    ];
    const claimVolume = (claim: string) => `claim-${claim.replace(/\./g, '-')}`.slice(0, 63).replace(/-+$/, '');
    const claims = new Map<string, boolean>();
    for (const [data, writes] of [[props.input, false], [props.output, true]] as Array<[BatchData, boolean]>) {
      if (data.claimName !== undefined) claims.set(data.claimName, (claims.get(data.claimName) ?? false) || writes);
    }
    const claimMounts: k8s.VolumeMount[] = [...claims].map(([claim, writes]) => ({ name: claimVolume(claim), mountPath: `${BATCH_CLAIMS_MOUNT}/${claim}`, readOnly: writes ? undefined : true }));
    const store = props.registry.objectStore;
    const volumes: k8s.Volume[] = [
      { name: 'tmp', emptyDir: {} },
      // On an object store, the run's own copy of the version it scores with (pull-model below).
      store ? { name: 'registry', emptyDir: {} } : { name: 'registry', persistentVolumeClaim: { claimName: props.registry.claimName!, readOnly: true } },
      { name: 'current', emptyDir: { sizeLimit: '1Mi' } },
      { name: 'script', configMap: { name: o.script } },
      ...[...claims].map(([claim, writes]): k8s.Volume => ({ name: claimVolume(claim), persistentVolumeClaim: { claimName: claim, readOnly: writes ? undefined : true } })),
    ];
    const small = { limits: { cpu: '100m', memory: '32Mi' }, requests: { cpu: '10m', memory: '16Mi' } };
    const securityContext = containerSecurityContext(o.security);
    const initContainers: k8s.Container[] = [];
    if (store) {
      // The newest ready version (or the pinned one), downloaded whole; none ready fails the run (exit 3).
      initContainers.push(objectStoreClientContainer({
        name: PULL_MODEL, store, model: props.model, security: o.security,
        args: ['pull', modelPath, props.version === undefined ? '' : String(props.version), 'fail'],
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '20m', memory: '96Mi' } },
        script: { volume: 'script', mountPath: LIBRARY_SCRIPT_DIR },
        target: { volume: 'registry', mountPath: REGISTRY_MOUNT },
      }));
    }
    initContainers.push({
      name: PICK_VERSION,
      image: o.utilityImage,
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/bash', `${LIBRARY_SCRIPT_DIR}/${SCRIPT_KEY}`, ...waitForVersionArgs(modelPath, props.version, 'fail')],
      resources: small,
      securityContext,
      volumeMounts: [
        { name: 'script', mountPath: LIBRARY_SCRIPT_DIR, readOnly: true },
        { name: 'registry', mountPath: REGISTRY_MOUNT, readOnly: true },
        { name: 'current', mountPath: CURRENT_VERSION_DIR },
      ],
    });
    if (props.output.claimName !== undefined) {
      initContainers.push({
        name: 'prepare-output',
        image: o.utilityImage,
        imagePullPolicy: 'IfNotPresent',
        command: ['mkdir', '-p', output],
        env: [runEnv],
        resources: small,
        securityContext,
        volumeMounts: claimMounts.filter((m) => !m.readOnly),
      });
    }
    return {
      backoffLimit: o.retries,
      activeDeadlineSeconds: props.timeout?.toSeconds() ?? DEFAULT_TIMEOUT_SECONDS,
      podFailurePolicy: {
        rules: [
          // No ready version: retrying within the run cannot publish one. The 1.27 OpenAPI
          // marks onPodConditions required; the API server accepts it empty next to onExitCodes.
          { action: 'FailJob', onExitCodes: { containerName: PICK_VERSION, operator: 'In', values: [EXIT_NO_READY_VERSION] }, onPodConditions: [] },
          ...(store ? [{ action: 'FailJob' as const, onExitCodes: { containerName: PULL_MODEL, operator: 'In' as const, values: [EXIT_NO_READY_VERSION] }, onPodConditions: [] }] : []),
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: o.labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(o.security),
          initContainers,
          containers: [{
            name: 'score',
            image: props.image,
            command: props.command,
            args: props.args,
            env,
            resources: o.quantities,
            securityContext,
            volumeMounts: [
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'registry', mountPath: REGISTRY_MOUNT, readOnly: true },
              { name: 'current', mountPath: CURRENT_VERSION_DIR, readOnly: true },
              ...claimMounts,
            ],
          }],
          volumes,
        },
      },
    };
  }
}

/** What the CronJob uses but does not create: the registry's claim or Secret, and the data claims. */
function externalRefs(props: BatchInferenceProps): string {
  const claims = new Set([props.registry.claimName, props.input.claimName, props.output.claimName].filter((c): c is string => c !== undefined));
  const secrets = props.registry.objectStore ? [`secret/${props.registry.objectStore.credentials.secret}`] : [];
  return [...secrets, ...[...claims].sort().map((c) => `persistentvolumeclaim/${c}`)].join(',');
}
