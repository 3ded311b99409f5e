import { Testing } from 'cdk8s';
import { ContainerStep, Pipeline } from '../../src';
import { churnPipeline } from '../../examples/churn/pipeline';
import { K8sObject, synth } from '../support/synth';

/** Every pod template in the output, with the object it belongs to. */
function podTemplates(objects: K8sObject[]): Array<{ owner: string; spec: K8sObject }> {
  return objects
    .filter((o) => o.spec?.template?.spec)
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

/**
 * The Pod Security Standards "restricted" profile, checked field by field, plus our own
 * rule that every container has cpu and memory requests and limits.
 */
function restrictedViolations(pod: K8sObject): string[] {
  const problems: string[] = [];
  const podCtx = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push('host namespaces');
  if (podCtx.seccompProfile?.type !== 'RuntimeDefault') problems.push('pod seccompProfile');
  for (const v of pod.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    if (!types.every((t) => ['emptyDir', 'persistentVolumeClaim', 'secret', 'configMap', 'projected', 'downwardAPI', 'ephemeral', 'csi'].includes(t))) {
      problems.push(`volume ${v.name} of type ${types}`);
    }
  }
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const ctx = c.securityContext ?? {};
    if (ctx.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation`);
    if (ctx.privileged) problems.push(`${c.name}: privileged`);
    if (JSON.stringify(ctx.capabilities?.drop) !== '["ALL"]' || ctx.capabilities?.add) problems.push(`${c.name}: capabilities`);
    if ((ctx.runAsNonRoot ?? podCtx.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot`);
    if ((ctx.runAsUser ?? podCtx.runAsUser) === 0) problems.push(`${c.name}: runAsUser 0`);
    if (c.ports?.some((p: any) => p.hostPort)) problems.push(`${c.name}: hostPort`);
    for (const side of ['requests', 'limits']) {
      for (const r of ['cpu', 'memory']) if (!c.resources?.[side]?.[r]) problems.push(`${c.name}: ${side}.${r} missing`);
    }
  }
  return problems;
}

describe('pod security', () => {
  test('every pod of the churn example meets the restricted profile and has requests and limits', () => {
    const pods = podTemplates(synth(churnPipeline).objects);
    expect(pods.length).toBe(7); // five steps, the gate and the coordinator
    for (const { owner, spec } of pods) expect({ owner, problems: restrictedViolations(spec) }).toEqual({ owner, problems: [] });
  });

  test('the check itself catches a loosened pod', () => {
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    new ContainerStep(pipeline, 'root', { image: 'busybox:1.36', security: { runAsNonRoot: false, user: 0 } });
    const pod = podTemplates(Testing.synth(pipeline)).find((p) => p.owner.startsWith('Job/p-root'))!;
    expect(restrictedViolations(pod.spec)).toEqual(['main: runAsNonRoot', 'main: runAsUser 0']);
  });

  test('step pods get no service account token unless they ask; the coordinator asks', () => {
    const { objects } = synth(churnPipeline);
    for (const o of objects.filter((x) => x.kind === 'Job')) {
      const isCoordinator = o.metadata.labels['mlops.cdk8s.io/role'] === 'coordinator';
      expect(o.spec.template.spec.automountServiceAccountToken).toBe(isCoordinator);
    }
    const app = Testing.app();
    const pipeline = new Pipeline(app, 'p');
    new ContainerStep(pipeline, 'deploy', { image: 'bitnami/kubectl:1.30', automountServiceAccountToken: true });
    const job = Testing.synth(pipeline).find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === 'deploy');
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(true);
  });

  test('evictions and preemptions do not spend a step\'s retries', () => {
    const { objects } = synth(churnPipeline);
    for (const o of objects.filter((x) => x.kind === 'Job' && x.metadata.labels['mlops.cdk8s.io/step'])) {
      // The gate fails at once on metrics it cannot judge (exit 3), before the rule that matters here.
      expect(o.spec.podFailurePolicy.rules.at(-1)).toEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
      expect(o.spec.template.spec.restartPolicy).toBe('Never');
    }
  });
});
