import { containerEnv, expand, PodContext, podFieldValue } from '../../src/verify/simulator/pod-env';
import { ManifestObject, simulate } from '../../src/verify/simulator';
import { dag, expectClean, synthPipeline } from './fixtures';

/**
 * Library pods (docs/development.md, "Library pods"): a Job whose container runs a script the
 * library ships runs that script for real, as the coordinator runs. These tests build the
 * shape the values design gives a step (docs/control-flow.md): the user's container as the
 * last init container, modelled, writing `$MLOPS_VALUES/<name>`; a library reporter as the
 * main container, with the reporter's token only, patching its own Job.
 */

const REPORT = `set -euo pipefail
accuracy="$(<"$MLOPS_VALUES/accuracy")"
previous="$(cat "$REGISTRY/$POD_NS/previous" 2>/dev/null || echo none)"
printf 'pod %s in %s, job %s, alpha=[%s], secret=%s, config=%s, previous=%s\\n' "$POD" "$POD_NS" "$MLOPS_SELF" "$IN_ALPHA" "$API_KEY" "$(<"$CONFIG_FILE")" "$previous"
mkdir -p "$REGISTRY/$POD_NS" && printf '%s\\n' "$accuracy" >"$REGISTRY/$POD_NS/accuracy"
kubectl patch job "$MLOPS_SELF" -n "$POD_NS" --type merge \\
  -p "$(jq -cn --arg v "$accuracy" '{metadata: {annotations: {"mlops.cdk8s.io/values": ({accuracy: ($v | tonumber)} | tojson)}}}')"
`;

/** demo: a -> b -> c, where b becomes a values step: user init container + library reporter. */
function valuesPipeline(opts: { verbs?: string[]; scriptLabel?: boolean; script?: string; registryReadOnly?: boolean } = {}): { objects: ManifestObject[]; job: string } {
  const objects = synthPipeline({ steps: dag('a->b->c', { b: { retries: 1 } }) });
  const coordinator = objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator')!;
  const image = coordinator.spec.template.spec.containers[0].image;
  const b = objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/step'] === 'b')!;
  const labels = { 'app.kubernetes.io/managed-by': 'cdk8s-mlops', 'mlops.cdk8s.io/pipeline': 'demo' };
  const user = b.spec.template.spec.containers[0];
  b.spec.template.spec = {
    ...b.spec.template.spec,
    serviceAccountName: 'demo-reporter',
    automountServiceAccountToken: false,
    initContainers: [{ ...user, name: 'main', env: [...user.env, { name: 'MLOPS_VALUES', value: '/mlops/values' }], volumeMounts: [...(user.volumeMounts ?? []), { name: 'values', mountPath: '/mlops/values' }] }],
    containers: [{
      name: 'report',
      image,
      command: ['/bin/bash', '/etc/mlops/report.sh'],
      env: [
        { name: 'MLOPS_VALUES', value: '/mlops/values' },
        { name: 'MLOPS_SELF', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'IN_ALPHA', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['in.mlops.cdk8s.io/alpha']" } } },
        { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'demo-key', key: 'key' } } },
        { name: 'CONFIG_FILE', value: '/etc/demo/settings.conf' },
        { name: 'REGISTRY', value: '/mnt/registry' },
        { name: 'HOME', value: '/tmp' },
      ],
      volumeMounts: [
        { name: 'script', mountPath: '/etc/mlops', readOnly: true },
        { name: 'values', mountPath: '/mlops/values' },
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'settings', mountPath: '/etc/demo/settings.conf', subPath: 'settings.conf' },
        { name: 'registry', mountPath: '/mnt/registry', subPath: 'models', ...(opts.registryReadOnly && { readOnly: true }) },
        { name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ],
    }],
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'values', emptyDir: {} },
      { name: 'script', configMap: { name: 'demo-report' } },
      { name: 'settings', configMap: { name: 'demo-settings' } },
      { name: 'registry', persistentVolumeClaim: { claimName: 'registry' } },
      { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
    ],
  };
  objects.push(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'demo-report', namespace: 'ml', labels: opts.scriptLabel === false ? {} : labels }, data: { 'report.sh': opts.script ?? REPORT } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'demo-settings', namespace: 'ml' }, data: { 'settings.conf': 'fast', 'other.conf': 'slow' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'demo-key', namespace: 'ml' }, data: { key: Buffer.from('s3cr3t').toString('base64') } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'demo-reporter', namespace: 'ml' }, automountServiceAccountToken: false },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'demo-reporter', namespace: 'ml' }, rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: opts.verbs ?? ['get', 'patch'], resourceNames: [b.metadata.name] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'demo-reporter', namespace: 'ml' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'demo-reporter' }, subjects: [{ kind: 'ServiceAccount', name: 'demo-reporter', namespace: 'ml' }] },
  );
  return { objects, job: b.metadata.name };
}

const behaviour = { b: { durations: [30], files: { '$MLOPS_VALUES/accuracy': '0.91' } } };

describe('library pods run for real', () => {
  test('a user init container (modelled) then a library container (bash, jq, the real kubectl) with the downward API, a Secret, a subPath and its own token', async () => {
    const { objects, job } = valuesPipeline();
    const r = await simulate(objects, { steps: behaviour });
    expectClean(r);
    expect(r.exitCode).toBe(0);
    // The user's container took its 30 s; the library's ran in no simulated time after it.
    expect(r.steps.b.startedAt).toBe(10);
    expect(r.steps.b.finishedAt).toBe(40);
    const [report] = r.containers;
    expect(r.containers).toHaveLength(1);
    expect(report).toMatchObject({ job, step: 'b', container: 'report', startedAt: 40, endedAt: 40, exitCode: 0, stderr: '' });
    expect(report.stdout).toBe(`pod ${report.pod} in ml, job ${job}, alpha=[], secret=s3cr3t, config=fast, previous=none\njob.batch/${job} patched\n`);
    // kubectl patch GETs first, then PATCHes, as the reporter ServiceAccount.
    expect(report.kubectl).toHaveLength(1);
    expect(report.kubectl[0].requests.filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.code}`)).toEqual(['get 200', 'patch 200']);
    expect(r.steps.b.annotations?.['mlops.cdk8s.io/values']).toBe('{"accuracy":0.91}');
    // The claim keeps what the pod wrote under its subPath.
    expect(r.claims.registry).toEqual({ 'models/ml/accuracy': '0.91\n' });
  });

  test('the reporter Role without patch: the API refuses the library container and the simulation says which', async () => {
    const { objects } = valuesPipeline({ verbs: ['get'] });
    const r = await simulate(objects, { steps: behaviour });
    expect(r.ok).toBe(false);
    expect(r.errors).toContainEqual(expect.stringMatching(/^the API refused container report of step b: `kubectl patch job demo-b-\w+ -n ml --type merge -p .*`: Error from server \(Forbidden\): jobs.batch "demo-b-\w+" is forbidden: User "system:serviceaccount:ml:demo-reporter" cannot patch resource "jobs" in API group "batch" in the namespace "ml"$/));
    expect(r.steps.b.outcome).toBe('failed');
  });

  test('a script in a ConfigMap the library did not make is the user\'s: modelled, not run', async () => {
    const { objects } = valuesPipeline({ scriptLabel: false });
    const r = await simulate(objects, { steps: behaviour });
    expectClean(r);
    expect(r.containers).toEqual([]);
    expect(r.steps.b.annotations?.['mlops.cdk8s.io/values']).toBeUndefined();
  });

  test('a failing user init container fails the pod before the library container starts; retries run it again', async () => {
    const { objects } = valuesPipeline();
    const r = await simulate(objects, { steps: { b: { durations: [5], exitCodes: [1, 0], files: { '$MLOPS_VALUES/accuracy': '0.5' } } } });
    expectClean(r);
    expect(r.steps.b.attempts).toBe(2);
    expect(r.steps.b.pods.map((p) => p.exitCode)).toEqual([1, 0]);
    expect(r.containers.map((k) => k.pod)).toEqual([r.steps.b.pods[1].name]);
    expect(r.steps.b.annotations?.['mlops.cdk8s.io/values']).toBe('{"accuracy":0.5}');
  });

  test('a claim is shared by every pod that mounts it and outlives their Jobs', async () => {
    const { objects } = valuesPipeline();
    const r = await simulate(objects, {
      steps: behaviour,
      claims: { registry: { 'models/ml/previous': '0.8' } },
      faults: { deleteJobs: [{ at: 55, step: 'b' }] },
    });
    expectClean(r);
    expect(r.containers[0].stdout).toMatch(/, previous=0\.8\n/);
    expect(r.steps.b.deletedAt).toBe(55);
    expect(r.claims.registry).toEqual({ 'models/ml/accuracy': '0.91\n', 'models/ml/previous': '0.8' });
  });

  test('a library script that names a mount path literally is refused: it would write to this machine, not the sandbox', async () => {
    const { objects } = valuesPipeline({ script: REPORT.replace('"$REGISTRY/$POD_NS"', '"/mnt/registry/$POD_NS"') });
    const r = await simulate(objects, { steps: behaviour });
    expect(r.errors).toContain('the library script of container "report" (step b) names its mount path /mnt/registry literally: take it from an env var, which the simulator maps into its sandbox');
    expect(r.containers[0].exitCode).toBeUndefined();
  });

  test('a declared file on no volume of the container is refused with its path', async () => {
    const { objects } = valuesPipeline();
    const r = await simulate(objects, { steps: { b: { files: { '/opt/out/accuracy': '1' } } } });
    expect(r.errors).toContain('step b writes /opt/out/accuracy, which is on no volume of container "main" (it would be lost with the container)');
  });

  test('a file path naming a variable the container does not have is refused', async () => {
    const { objects } = valuesPipeline();
    const r = await simulate(objects, { steps: { b: { files: { '$MLOPS_NOPE/x': '1' } } } });
    expect(r.errors).toContain('the files of step b name $MLOPS_NOPE in "$MLOPS_NOPE/x", which container "main" does not have in its environment');
  });

  test('a missing Secret keeps the library container from starting (CreateContainerConfigError)', async () => {
    const { objects } = valuesPipeline();
    const r = await simulate(objects.filter((o) => o.kind !== 'Secret'), { steps: behaviour });
    expect(r.errors).toContain(`container "report" of pod ${r.steps.b.pods[0].name}: Secret "demo-key" does not exist (CreateContainerConfigError: the kubelet would not start it)`);
  });
});

/**
 * A mount marked readOnly: on a node the runtime bind-mounts it read-only and a write fails
 * with EROFS (src/verify/simulator/read-only-mounts.ts cites the kubelet). Here the write is
 * undone, the container fails, and the simulation names the path.
 */
describe('readOnly mounts of a library container', () => {
  const claims = { registry: { 'models/ml/previous': '0.8' } };
  const erofs = (file: string) => `container report of step b wrote ${file}, under a mount its pod marks readOnly: on a cluster the write fails (EROFS, read-only file system)`;

  test('a script that writes into one and exits fails its container; the claim keeps what it held', async () => {
    const { objects } = valuesPipeline({ registryReadOnly: true });
    const r = await simulate(objects, { steps: behaviour, claims });
    expect(r.errors).toEqual([erofs('/mnt/registry/ml/accuracy')]);
    expect(r.containers.map((k) => [k.exitCode, k.readOnlyWrite])).toEqual([[1, '/mnt/registry/ml/accuracy'], [1, '/mnt/registry/ml/accuracy']]);
    expect(r.containers[0].stderr).toBe('/mnt/registry/ml/accuracy: Read-only file system\n');
    expect(r.steps.b.outcome).toBe('failed');
    expect(r.claims.registry).toEqual(claims.registry);
  });

  test('a script that writes into one and sleeps is stopped when it sleeps, before anything else runs', async () => {
    const script = 'set -euo pipefail\nrm "$REGISTRY/$POD_NS/previous"\nsleep 30\necho "still here"\n';
    const { objects } = valuesPipeline({ registryReadOnly: true, script });
    const r = await simulate(objects, { steps: behaviour, claims });
    expect(r.errors).toEqual([erofs('/mnt/registry/ml/previous')]);
    expect(r.containers[0]).toMatchObject({ exitCode: 1, stdout: '', stderr: '/mnt/registry/ml/previous: Read-only file system\n' });
    expect(r.containers[0].endedAt).toBe(r.containers[0].startedAt);
    expect(r.claims.registry).toEqual(claims.registry);
  });

  test('a file mounted alone (subPath) is watched too', async () => {
    const script = 'set -euo pipefail\nprintf changed >"$CONFIG_FILE"\n';
    const { objects } = valuesPipeline({ script });
    const b = objects.find((o) => o.kind === 'Job' && o.metadata.labels?.['mlops.cdk8s.io/step'] === 'b')!;
    b.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'settings').readOnly = true;
    const r = await simulate(objects, { steps: behaviour });
    expect(r.errors).toEqual([erofs('/etc/demo/settings.conf')]);
    expect(r.containers[0]).toMatchObject({ exitCode: 1, readOnlyWrite: '/etc/demo/settings.conf' });
  });

  test('reading one is fine, and so is writing into the same claim through a mount that is not readOnly', async () => {
    const readOnly = valuesPipeline({ registryReadOnly: true, script: 'set -euo pipefail\nsleep 5\necho "previous=$(<"$REGISTRY/$POD_NS/previous")"\n' });
    const r = await simulate(readOnly.objects, { steps: behaviour, claims });
    expectClean(r);
    expect(r.containers.map((k) => [k.exitCode, k.stdout, k.readOnlyWrite])).toEqual([[0, 'previous=0.8\n', undefined]]);
    const writable = await simulate(valuesPipeline().objects, { steps: behaviour, claims });
    expectClean(writable);
    expect(writable.claims.registry).toEqual({ ...claims.registry, 'models/ml/accuracy': '0.91\n' });
  });
});

describe('the environment as the kubelet resolves it', () => {
  const pod: PodContext = {
    name: 'p-1', namespace: 'ml', uid: 'u-1', serviceAccount: 'sa',
    labels: { 'batch.kubernetes.io/job-name': 'j', app: 'x' },
    annotations: { 'in.mlops.cdk8s.io/alpha': '0.5', b: 'say "hi"' },
    objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ml' }, data: { A: '1', 'not-a-name': '2' } }],
  };

  test('downward API fields (pkg/fieldpath): subscripts, an absent key is empty, whole maps are sorted key="value" lines', () => {
    expect(podFieldValue("metadata.labels['batch.kubernetes.io/job-name']", pod)).toBe('j');
    expect(podFieldValue("metadata.annotations['in.mlops.cdk8s.io/alpha']", pod)).toBe('0.5');
    expect(podFieldValue("metadata.annotations['absent']", pod)).toBe('');
    expect(podFieldValue('metadata.annotations', pod)).toBe('b="say \\"hi\\""\nin.mlops.cdk8s.io/alpha="0.5"');
    expect(podFieldValue('spec.serviceAccountName', pod)).toBe('sa');
    expect(() => podFieldValue('status.phase', pod)).toThrow('pod p-1: the simulator does not model fieldPath status.phase');
  });

  test('$(VAR) expansion: earlier variables only, $$ escapes, an unknown reference stays', () => {
    expect(expand('$(A)-$(B)-$$(A)-$(NOPE)', { A: 'a', B: 'b' })).toBe('a-b-$(A)-$(NOPE)');
    const env = containerEnv({
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [{ name: 'X', value: '$(Y)/$(CM_A)' }, { name: 'Y', value: 'y' }, { name: 'Z', value: '$(Y)' }],
    }, pod);
    expect(env).toEqual({ CM_A: '1', X: '$(Y)/1', Y: 'y', Z: 'y' });
  });
});
