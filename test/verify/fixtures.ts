/**
 * Hand-written manifests shaped like the plain backend's output (docs/ordering.md) plus a
 * serving stack. Every builder returns fresh objects, so a test can break one field without
 * affecting the others.
 */
import { KubeObject } from '../../src/verify';

export type Obj = Record<string, any>;

export const NS = 'ml';
export const PIPELINE = 'churn';

const pipelineLabels = (extra: Record<string, string> = {}) => ({
  'app.kubernetes.io/name': PIPELINE,
  'app.kubernetes.io/managed-by': 'cdk8s-mlops',
  'mlops.cdk8s.io/pipeline': PIPELINE,
  ...extra,
});

const restricted = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface StepSpec {
  step: string;
  after?: string[];
  gpus?: number;
  parallelism?: number;
  completions?: number;
}

export function jobName(step: string): string {
  return `${PIPELINE}-${step}-0a1b2c3d`;
}

export const COORDINATOR = `${PIPELINE}-coordinator-9f8e7d6c`;

export function stepJob(s: StepSpec): Obj {
  const after = [...(s.after ?? [])].sort();
  const limits: Record<string, string | number> = { cpu: '1', memory: '1Gi' };
  if (s.gpus) limits['nvidia.com/gpu'] = s.gpus;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(s.step),
      namespace: NS,
      labels: pipelineLabels({ 'mlops.cdk8s.io/step': s.step }),
      ...(after.length ? { annotations: { 'mlops.cdk8s.io/depends-on': after.join(',') } } : {}),
    },
    spec: {
      suspend: true,
      backoffLimit: 2,
      ...(s.parallelism !== undefined ? { parallelism: s.parallelism } : {}),
      ...(s.completions !== undefined ? { completions: s.completions } : {}),
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels: pipelineLabels({ 'mlops.cdk8s.io/step': s.step }) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'main',
            image: 'python:3.12-slim',
            command: ['python', '-m', `steps.${s.step}`],
            env: [{ name: 'MLOPS_OUTPUT', value: `/workspace/run/${s.step}` }],
            resources: { requests: { cpu: '500m', memory: '512Mi' }, limits },
            securityContext: restricted,
            volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
          }],
          volumes: [{ name: 'workspace', persistentVolumeClaim: { claimName: `${PIPELINE}-workspace` } }],
        },
      },
    },
  };
}

export function planText(steps: StepSpec[]): string {
  return steps.map((s) => `${s.step}\t${jobName(s.step)}\t${s.after?.length ? [...s.after].sort().join(',') : '-'}`).join('\n') + '\n';
}

export function coordinatorObjects(steps: StepSpec[]): Obj[] {
  const sa = `${PIPELINE}-coordinator`;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS, labels: pipelineLabels() }, automountServiceAccountToken: true },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: sa, namespace: NS, labels: pipelineLabels() },
      rules: [
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'patch'], resourceNames: [...steps.map((s) => jobName(s.step)), COORDINATOR] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa, namespace: NS, labels: pipelineLabels() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: COORDINATOR, namespace: NS, labels: pipelineLabels() },
      data: { 'coordinate.sh': '#!/bin/bash\nset -euo pipefail\n', plan: planText(steps) },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: COORDINATOR, namespace: NS, labels: pipelineLabels({ 'mlops.cdk8s.io/role': 'coordinator' }) },
      spec: {
        backoffLimit: 6,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [3] }, onPodConditions: [] }] },
        template: {
          metadata: { labels: pipelineLabels({ 'mlops.cdk8s.io/role': 'coordinator' }) },
          spec: {
            restartPolicy: 'Never',
            serviceAccountName: sa,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'coordinator',
              image: 'registry.k8s.io/kubectl:v1.30.0',
              command: ['/bin/bash', '/etc/mlops/coordinate.sh'],
              env: [
                { name: 'MLOPS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'MLOPS_PIPELINE', value: PIPELINE },
                { name: 'MLOPS_SELF', value: COORDINATOR },
                { name: 'MLOPS_PLAN', value: '/etc/mlops/plan' },
                { name: 'MLOPS_POLL_SECONDS', value: '5' },
                { name: 'MLOPS_RUN_DEADLINE_SECONDS', value: '86400' },
                { name: 'MLOPS_MAX_PARALLEL', value: '0' },
                { name: 'HOME', value: '/tmp' },
              ],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
              securityContext: restricted,
              volumeMounts: [{ name: 'script', mountPath: '/etc/mlops', readOnly: true }],
            }],
            volumes: [{ name: 'script', configMap: { name: COORDINATOR, defaultMode: 0o555 } }],
          },
        },
      },
    },
  ];
}

export function workspacePvc(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: `${PIPELINE}-workspace`, namespace: NS, labels: pipelineLabels() },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'standard' },
  };
}

/** The diamond of the plan tests, as a pipeline: ingest -> (features, stats) -> train -> evaluate. */
export const STEPS: StepSpec[] = [
  { step: 'ingest' },
  { step: 'features', after: ['ingest'] },
  { step: 'stats', after: ['ingest'] },
  { step: 'train', after: ['features', 'stats'], gpus: 2, parallelism: 2 },
  { step: 'evaluate', after: ['train'], gpus: 1 },
];

export function serving(): Obj[] {
  const labels = { 'app.kubernetes.io/name': 'churn-serve', 'mlops.cdk8s.io/pipeline': PIPELINE };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'churn-serve', namespace: NS, labels, annotations: { 'mlops.cdk8s.io/external-refs': 'secret/ml-credentials' } },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': 'churn-serve' } },
        template: {
          metadata: { labels, annotations: { 'prometheus.io/scrape': 'true' } },
          spec: {
            automountServiceAccountToken: false,
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{
              name: 'server',
              image: 'ghcr.io/example/churn-serve:1.0.0',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'ml-credentials', key: 'api-key' } } }],
              envFrom: [{ configMapRef: { name: 'churn-serve-config' } }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
              livenessProbe: { tcpSocket: { port: 8080 } },
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
              securityContext: restricted,
              volumeMounts: [{ name: 'model', mountPath: '/models', readOnly: true }],
            }],
            volumes: [{ name: 'model', persistentVolumeClaim: { claimName: `${PIPELINE}-workspace`, readOnly: true } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'churn-serve-config', namespace: NS },
      data: { MODEL_PATH: '/models/churn/model.pkl', 'log.level': 'info' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'churn-serve', namespace: NS, labels },
      spec: { selector: { 'app.kubernetes.io/name': 'churn-serve' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'churn-serve', namespace: NS },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'churn-serve' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'churn-serve', namespace: NS },
      spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'churn-serve' } } },
    },
  ];
}

/** A complete, valid set: workspace, step Jobs, coordinator and serving. */
export function validSet(steps: StepSpec[] = STEPS): Obj[] {
  return [workspacePvc(), ...steps.map(stepJob), ...coordinatorObjects(steps), ...serving()];
}

export function find(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`fixture has no ${kind} ${name}`);
  return o;
}

export function asObjects(objects: Obj[]): KubeObject[] {
  return objects as KubeObject[];
}
