import type { StepSpec } from './container-spec';
import { wholeSecondsProblem } from './durations';
import { dnsLabelProblem, dnsSubdomainProblem, imageReferenceProblem, labelProblem } from './names';
import { IMAGE_PULL_POLICIES } from './pull-policy';
import { checkResources, mebibytes } from './resources';

/** Kubernetes refuses an Indexed Job with more completions than this. */
const MAX_INDEXED_COMPLETIONS = 100_000;

/** Paths the backend mounts itself; a secret volume there would hide them. */
const RESERVED_MOUNTS = ['/tmp', '/mnt/workspace'];

/** Containers the backend adds to a step's pod; the step's own must be named otherwise. */
const RESERVED_CONTAINER_NAMES = ['prepare-outputs'];

/** Variables the platform sets: the backend's artifact locations and the Job controller's index. */
const RESERVED_ENV = /^(MLOPS_|JOB_COMPLETION_INDEX$)/;

/**
 * Everything in a step's spec that Kubernetes would refuse, or that would leave a pod
 * stuck instead of failing; each message names the prop, the value and the fix.
 *
 * Shared by every kind of step: they all describe their container as a `StepSpec`.
 */
export function checkStepSpec(spec: StepSpec): string[] {
  return [
    ...checkImage(spec),
    ...checkResources(spec.resources),
    ...optional(spec.gpu?.problem()),
    ...checkRun(spec),
    ...checkEnv(spec),
    ...checkMounts(spec),
    ...checkScheduling(spec),
    ...checkIdentity(spec),
  ];
}

function checkImage(spec: StepSpec): string[] {
  const problems: string[] = [];
  if (spec.image.trim() === '') problems.push('no container image: set \'image\' on the step or \'defaults.image\' on the pipeline');
  else problems.push(...optional(imageReferenceProblem(spec.image)));
  if (!IMAGE_PULL_POLICIES.includes(spec.imagePullPolicy)) {
    problems.push(`'imagePullPolicy' must be 'Always', 'IfNotPresent' or 'Never', got '${spec.imagePullPolicy}'`);
  }
  const nameProblem = dnsLabelProblem(spec.containerName);
  if (nameProblem) problems.push(`'containerName' '${spec.containerName}' is not a valid name: ${nameProblem}`);
  else if (RESERVED_CONTAINER_NAMES.includes(spec.containerName)) {
    problems.push(`'containerName' '${spec.containerName}' is the name of a container cdk8s-mlops adds to the pod; choose another`);
  }
  return problems;
}

function checkRun(spec: StepSpec): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(spec.retries) || spec.retries < 0 || spec.retries > 100) {
    problems.push(`'retries' must be a whole number from 0 to 100, got ${spec.retries}`);
  }
  if (spec.timeout !== undefined) problems.push(...optional(wholeSecondsProblem('timeout', spec.timeout)));
  if (!Number.isInteger(spec.fanOut) || spec.fanOut < 1 || spec.fanOut > MAX_INDEXED_COMPLETIONS) {
    problems.push(`'fanOut' must be a whole number from 1 to ${MAX_INDEXED_COMPLETIONS}, got ${spec.fanOut}`);
  }
  if (!Number.isInteger(spec.fanOutParallelism) || spec.fanOutParallelism < 1 || spec.fanOutParallelism > spec.fanOut) {
    problems.push(`'fanOutParallelism' must be a whole number from 1 to fanOut (${spec.fanOut}), got ${spec.fanOutParallelism}`);
  }
  return problems;
}

function checkEnv(spec: StepSpec): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(spec.env)) {
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name) || name === '.' || name.startsWith('..')) {
      problems.push(`env var name '${name}' is invalid; use letters, digits, '_', '-' or '.', not starting with a digit or '..'`);
    } else if (RESERVED_ENV.test(name)) {
      problems.push(`env var '${name}' is set by cdk8s-mlops or Kubernetes (artifact locations, the fan-out index); rename it`);
    }
  }
  return problems;
}

function checkMounts(spec: StepSpec): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const mounts = [
    ...spec.secretVolumes.map((v) => ({ what: 'secret volume', source: `secret '${v.secret.name}'`, mountPath: v.mountPath, subPath: undefined })),
    ...spec.volumes.map((v) => ({ what: 'volume', source: String(v.volume), mountPath: v.mountPath, subPath: v.subPath })),
  ];
  for (const m of mounts) {
    const path = m.mountPath.replace(/\/+$/, '');
    if (!m.mountPath.startsWith('/')) {
      problems.push(`${m.what} mountPath '${m.mountPath}' must be an absolute path`);
    } else if (RESERVED_MOUNTS.some((r) => path === r || path.startsWith(`${r}/`))) {
      problems.push(`${m.what} mountPath '${m.mountPath}' would hide ${RESERVED_MOUNTS.join(' or ')}, which every step needs; mount it elsewhere`);
    } else if (seen.has(path)) {
      problems.push(`two volumes are mounted at '${m.mountPath}' (${seen.get(path)} and ${m.source}); give each its own path`);
    }
    if (!seen.has(path)) seen.set(path, m.source);
    if (m.subPath !== undefined && (m.subPath === '' || m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
      problems.push(`volume subPath '${m.subPath}' at '${m.mountPath}' must be a relative path inside the volume, without '..'`);
    }
  }
  for (const v of spec.secretVolumes) {
    const nameProblem = dnsSubdomainProblem(v.secret.name);
    if (nameProblem) problems.push(`secret name '${v.secret.name}' is invalid: ${nameProblem}`);
  }
  for (const { volume } of spec.volumes) {
    const s = volume.source;
    const name = s.kind === 'claim' ? s.claimName : s.kind === 'configMap' ? s.name : undefined;
    const nameProblem = name !== undefined && dnsSubdomainProblem(name);
    if (nameProblem) problems.push(`${volume} is not a valid name: ${nameProblem}`);
    if (s.kind === 'emptyDir' && s.sizeLimit !== undefined && !((mebibytes(s.sizeLimit) ?? 0) >= 1)) {
      problems.push('emptyDir sizeLimit must be a whole number of mebibytes, at least 1; use Size.mebibytes(n) or Size.gibibytes(n)');
    }
  }
  for (const secret of spec.imagePullSecrets) {
    const nameProblem = dnsSubdomainProblem(secret.name);
    if (nameProblem) problems.push(`image pull secret name '${secret.name}' is invalid: ${nameProblem}`);
  }
  return problems;
}

function checkScheduling(spec: StepSpec): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(spec.nodeSelector)) {
    problems.push(...optional(labelProblem(key, value)).map((p) => `nodeSelector: ${p}`));
  }
  spec.tolerations.forEach((t, i) => {
    const operator = t.operator ?? 'Equal';
    if (operator !== 'Equal' && operator !== 'Exists') {
      problems.push(`toleration ${i}: operator must be 'Equal' or 'Exists', got '${operator}'`);
    } else if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
      problems.push(`toleration ${i}: operator 'Exists' takes no value, got '${t.value}'; drop the value or use 'Equal'`);
    }
    if (t.effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      problems.push(`toleration ${i}: effect must be NoSchedule, PreferNoSchedule or NoExecute, got '${t.effect}'`);
    }
  });
  return problems;
}

function checkIdentity(spec: StepSpec): string[] {
  const problems: string[] = [];
  const { user, group, runAsNonRoot } = spec.security;
  for (const [prop, id] of [['security.user', user], ['security.group', group]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > 2147483647) problems.push(`'${prop}' must be a whole number from 0 to 2147483647, got ${id}`);
  }
  if (user === 0 && runAsNonRoot) {
    problems.push('\'security.user\' is 0 (root) while runAsNonRoot is on: the kubelet would refuse to start the container; '
      + 'use a non-zero uid, or set security.runAsNonRoot to false to run as root on purpose');
  }
  if (spec.serviceAccount) {
    const nameProblem = dnsSubdomainProblem(spec.serviceAccount.name);
    if (nameProblem) problems.push(`service account name '${spec.serviceAccount.name}' is invalid: ${nameProblem}`);
  }
  return problems;
}

function optional(problem: string | undefined): string[] {
  return problem === undefined ? [] : [problem];
}
