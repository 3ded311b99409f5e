import { posix } from 'path';
import type { StepSpec } from './container-spec';
import { wholeSecondsProblem } from './durations';
import { dataKeyProblem, keyRefOf } from './key-refs';
import { dnsLabelProblem, dnsSubdomainProblem, imageReferenceProblem, labelProblem } from './names';
import { IMAGE_PULL_POLICIES } from './pull-policy';
import { checkResources, mebibytes } from './resources';
import { isWholeNumberIn, shown } from './values';
import { LIBRARY_CONTAINER_NAMES } from '../library-containers';

/** Kubernetes refuses an Indexed Job with more completions than this. */
const MAX_INDEXED_COMPLETIONS = 100_000;

/** Paths the backend mounts itself; a secret volume there would hide them. */
const RESERVED_MOUNTS = ['/tmp', '/mnt/workspace'];

/** Where a step that declares values writes them (`$MLOPS_VALUES`), mounted by the backend. */
export const VALUES_DIR = '/mnt/values';

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
    ...checkInputs(spec),
    ...checkMounts(spec),
    ...checkScheduling(spec),
    ...checkIdentity(spec),
  ];
}

function checkImage(spec: StepSpec): string[] {
  const problems: string[] = [];
  if (typeof spec.image === 'string' && spec.image.trim() === '') problems.push('no container image: set \'image\' on the step or \'defaults.image\' on the pipeline');
  else problems.push(...optional(imageReferenceProblem(spec.image)));
  if (!IMAGE_PULL_POLICIES.includes(spec.imagePullPolicy)) {
    problems.push(`'imagePullPolicy' must be 'Always', 'IfNotPresent' or 'Never', got '${spec.imagePullPolicy}'`);
  }
  const nameProblem = dnsLabelProblem(spec.containerName);
  if (nameProblem) problems.push(`'containerName' '${spec.containerName}' is not a valid name: ${nameProblem}`);
  else if (LIBRARY_CONTAINER_NAMES.includes(spec.containerName)) {
    problems.push(`'containerName' '${spec.containerName}' is the name of a container cdk8s-mlops adds to the pod; choose another`);
  }
  return problems;
}

function checkRun(spec: StepSpec): string[] {
  const problems: string[] = [];
  if (!isWholeNumberIn(spec.retries, 0, 100)) {
    problems.push(`'retries' must be a whole number from 0 to 100, got ${shown(spec.retries)}`);
  }
  if (spec.timeout !== undefined) problems.push(...optional(wholeSecondsProblem('timeout', spec.timeout)));
  if (!isWholeNumberIn(spec.fanOut, 1, MAX_INDEXED_COMPLETIONS)) {
    problems.push(`'fanOut' must be a whole number from 1 to ${MAX_INDEXED_COMPLETIONS}, got ${shown(spec.fanOut)}`);
  } else if (!isWholeNumberIn(spec.fanOutParallelism, 1, spec.fanOut)) {
    problems.push(`'fanOutParallelism' must be a whole number from 1 to fanOut (${spec.fanOut}), got ${shown(spec.fanOutParallelism)}`);
  }
  return problems;
}

function checkEnv(spec: StepSpec): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(spec.env)) {
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name) || name === '.' || name.startsWith('..')) {
      problems.push(`env var name '${name}' is invalid; use letters, digits, '_', '-' or '.', not starting with a digit or '..'`);
    } else if (RESERVED_ENV.test(name)) {
      problems.push(`env var '${name}' is set by cdk8s-mlops or Kubernetes (artifact locations, the fan-out index); rename it`);
    }
    const ref = keyRefOf(value);
    if (!ref) continue;
    const nameProblem = dnsSubdomainProblem(ref.name);
    if (nameProblem) problems.push(`env var '${name}' reads ${ref.kind} '${ref.name}', which is not a valid name: ${nameProblem}`);
    const keyProblem = dataKeyProblem(ref.key);
    if (keyProblem) problems.push(`env var '${name}' reads key '${ref.key}' of ${ref.kind} '${ref.name}', which is not a valid key: ${keyProblem}`);
  }
  return problems;
}

/**
 * Every input must be an output its producer declared: the producer's init container creates
 * only those directories, and a hand-made artifact's name goes into a path unchecked.
 */
function checkInputs(spec: StepSpec): string[] {
  const problems: string[] = [];
  for (const [name, artifact] of Object.entries(spec.inputs)) {
    if (artifact.kind !== 'ItemOutputs' && artifact.producer.groupMembership) {
      const g = artifact.producer.groupMembership.group;
      problems.push(`input '${name}' reads '${artifact.name}' of one instance, ${artifact.producer.node.path}, whose folder is one item of `
        + `'${g.name}'; read every item's folder through ${g.scope.node.path}'s outputs.${artifact.name}`);
      continue;
    }
    if (artifact.declared) continue;
    problems.push(`input '${name}' reads '${artifact.name}' of ${artifact.producer.node.path}, which is not one of its declared outputs; `
      + `declare it on that step (outputs: { name: Dataset }) and pass step.outputs.name`);
  }
  return problems;
}

/** A mount path as the container sees it: `//mnt/./workspace/` is `/mnt/workspace`. */
function normalMountPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** Whether one of two normalized paths contains the other (or they are the same). */
function overlaps(a: string, b: string): boolean {
  const inside = (x: string, y: string) => x === y || x.startsWith(y === '/' ? '/' : `${y}/`);
  return inside(a, b) || inside(b, a);
}

function checkMounts(spec: StepSpec): string[] {
  const problems: string[] = [];
  const seen: Array<{ path: string; source: string; secret: boolean }> = [];
  const mounts = [
    ...spec.secretVolumes.map((v) => ({ secret: true, source: `secret '${v.secret.name}'`, mountPath: String(v.mountPath), subPath: undefined })),
    ...spec.volumes.map((v) => ({ secret: false, source: String(v.volume), mountPath: String(v.mountPath), subPath: v.subPath })),
  ];
  for (const m of mounts) {
    const what = m.secret ? 'secret volume' : 'volume';
    const path = normalMountPath(m.mountPath);
    const shownPath = path === m.mountPath ? `'${m.mountPath}'` : `'${m.mountPath}' (${path})`;
    const reserved = [...RESERVED_MOUNTS, ...(Object.keys(spec.values).length > 0 ? [VALUES_DIR] : [])].find((r) => overlaps(path, r));
    const same = seen.find((p) => p.path === path);
    // Secrets nested in each other hide keys; other volumes may nest (a claim below the workspace's path).
    const nested = m.secret && seen.find((p) => p.secret && overlaps(path, p.path));
    if (!m.mountPath.startsWith('/')) {
      problems.push(`${what} mountPath '${m.mountPath}' must be an absolute path`);
    } else if (reserved) {
      problems.push(`${what} mountPath ${shownPath} overlaps ${reserved}, which ${reserved === VALUES_DIR ? 'the step\'s values need' : 'every step needs'}; mount it elsewhere, e.g. ${m.secret ? '/etc/secrets/<name>' : '/data'}`);
    } else if (same && same.secret && m.secret) {
      problems.push(`two secret volumes are mounted at ${shownPath}; give each its own path`);
    } else if (same) {
      problems.push(`two volumes are mounted at ${shownPath} (${same.source} and ${m.source}); give each its own path`);
    } else if (nested) {
      problems.push(`secret volume mountPath ${shownPath} overlaps another secret volume at '${nested.path}'; give each its own path, neither inside the other`);
    }
    seen.push({ path, source: m.source, secret: m.secret });
    if (m.subPath !== undefined && (m.subPath === '' || m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
      problems.push(`volume subPath '${m.subPath}' at '${m.mountPath}' must be a relative path inside the volume, without '..'`);
    }
  }
  for (const volume of spec.secretVolumes) {
    const nameProblem = dnsSubdomainProblem(volume.secret.name);
    if (nameProblem) problems.push(`secret name '${volume.secret.name}' is invalid: ${nameProblem}`);
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
    if (!isWholeNumberIn(id, 0, 2147483647)) problems.push(`'${prop}' must be a whole number from 0 to 2147483647, got ${shown(id)}`);
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
