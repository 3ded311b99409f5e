import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ContainerStep, Dataset, Model, Pipeline } from '../src';
import type { Artifact, Step } from '../src';
import type { Dag, DagStep } from './dag';

/**
 * The two workloads compared by the bench, built from the same random DAG.
 *
 * Every step is the same container in both: image, command, three plain env vars, one
 * Secret-backed env var, the MLOPS_* artifact locations, cpu/memory requests and limits,
 * a restricted security context, /tmp as an emptyDir, the workspace claim mounted at
 * /mnt/workspace, and an init container creating the output directory. The cdk8s-mlops
 * version adds what orders the steps at run time (suspended Jobs, a coordinator Job and
 * its ConfigMap and RBAC, depends-on annotations, hashed names) and the few fields raw
 * cdk8s-plus-27 has no prop for (seccompProfile, podFailurePolicy, enableServiceLinks).
 */

export const PIPELINE = 'sweep';
export const NAMESPACE = 'ml-sweep';
const CLAIM = `${PIPELINE}-workspace`;
const SECRET = 'sweep-credentials';
const MOUNT = '/mnt/workspace';
const UTILITY_IMAGE = 'registry.k8s.io/kubectl:v1.30.0';

function image(s: DagStep): string {
  return `ghcr.io/acme-ml/sweep:1.${s.index % 7}.0`;
}

function command(s: DagStep): string[] {
  return ['python', '-m', 'sweep.trial', '--trial', String(s.index)];
}

function plainEnv(s: DagStep): Record<string, string> {
  return {
    TRIAL: String(s.index),
    LEARNING_RATE: (0.001 * (1 + (s.index % 10))).toFixed(4),
    BATCH_SIZE: String(32 << (s.index % 4)),
  };
}

/** The pipeline as users write it with cdk8s-mlops. */
export function buildPipeline(app: App, dag: Dag): Pipeline {
  const pipeline = new Pipeline(app, PIPELINE, {
    namespace: NAMESPACE,
    defaults: {
      resources: {
        cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) },
      },
    },
  });
  const secret = kplus.Secret.fromSecretName(pipeline, 'Credentials', SECRET);
  const outputs: Artifact[] = [];
  const steps: Step[] = [];
  for (const s of dag.steps) {
    const env: Record<string, kplus.EnvValue> = {};
    for (const [k, v] of Object.entries(plainEnv(s))) env[k] = kplus.EnvValue.fromValue(v);
    env.WANDB_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: 'wandb-api-key' });
    const inputs: Record<string, Artifact> = {};
    s.reads.forEach((r, i) => { inputs[`in${i}`] = outputs[r]; });
    const step = new ContainerStep(pipeline, s.id, {
      image: image(s),
      command: command(s),
      env,
      inputs,
      outputs: { result: s.index % 2 === 0 ? Model : Dataset },
      after: s.after?.map((i) => steps[i]),
    });
    steps.push(step);
    outputs.push(step.outputs.result);
  }
  return pipeline;
}

/** The same Jobs written directly with cdk8s-plus-27, with no ordering mechanism. */
export function buildBaseline(app: App, dag: Dag): Chart {
  const chart = new Chart(app, PIPELINE, { namespace: NAMESPACE });
  const secret = kplus.Secret.fromSecretName(chart, 'Credentials', SECRET);
  const pvc = new kplus.PersistentVolumeClaim(chart, 'Workspace', {
    metadata: { name: CLAIM },
    accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
    storage: Size.gibibytes(10),
  });
  const workspace = kplus.Volume.fromPersistentVolumeClaim(chart, 'WorkspaceVolume', pvc, { name: 'workspace' });
  const path = (step: string, artifact: string) => `${MOUNT}/${PIPELINE}/latest/${step}/${artifact}`;
  const securityContext: kplus.ContainerSecurityContextProps = {
    user: 1000, group: 1000, ensureNonRoot: true, readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    // cdk8s-plus-27's Capability enum has no ALL; the string passes through unchanged.
    capabilities: { drop: ['ALL' as kplus.Capability] },
  };
  for (const s of dag.steps) {
    const envVariables: Record<string, kplus.EnvValue> = {};
    for (const [k, v] of Object.entries(plainEnv(s))) envVariables[k] = kplus.EnvValue.fromValue(v);
    envVariables.WANDB_API_KEY = kplus.EnvValue.fromSecretValue({ secret, key: 'wandb-api-key' });
    envVariables.MLOPS_PIPELINE = kplus.EnvValue.fromValue(PIPELINE);
    envVariables.MLOPS_STEP = kplus.EnvValue.fromValue(s.id);
    s.reads.forEach((r, i) => { envVariables[`MLOPS_INPUT_IN${i}`] = kplus.EnvValue.fromValue(path(dag.steps[r].id, 'result')); });
    envVariables.MLOPS_OUTPUT_RESULT = kplus.EnvValue.fromValue(path(s.id, 'result'));
    const job = new kplus.Job(chart, s.id, {
      backoffLimit: 0,
      restartPolicy: kplus.RestartPolicy.NEVER,
      automountServiceAccountToken: false,
      securityContext: { user: 1000, group: 1000, fsGroup: 1000, ensureNonRoot: true },
      podMetadata: { labels: { 'mlops.cdk8s.io/pipeline': PIPELINE, 'mlops.cdk8s.io/step': s.id } },
    });
    const tmp = kplus.Volume.fromEmptyDir(job, 'Tmp', 'tmp');
    job.addInitContainer({
      name: 'prepare-outputs',
      image: UTILITY_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['mkdir', '-p', path(s.id, 'result')],
      resources: {
        cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) },
        memory: { request: Size.mebibytes(16), limit: Size.mebibytes(32) },
      },
      securityContext,
      volumeMounts: [{ volume: workspace, path: MOUNT }],
    });
    job.addContainer({
      name: 'main',
      image: image(s),
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: command(s),
      envVariables,
      resources: {
        cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(2), limit: Size.gibibytes(4) },
      },
      securityContext,
      volumeMounts: [{ volume: tmp, path: '/tmp' }, { volume: workspace, path: MOUNT }],
    });
  }
  return chart;
}
