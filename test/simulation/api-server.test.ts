import { apiFixture } from '../support/kubectl';
import { mergePatch } from '../../src/verify/simulator/merge-patch';
import { dag, edit, synthPipeline } from './fixtures';

/**
 * The simulated API server, driven by the real kubectl: what the client sends and prints is
 * the real client's, so these tests pin the server's answers, not our beliefs about kubectl.
 */
describe('the simulated API server answers the real kubectl', () => {
  const objects = () => synthPipeline({ steps: dag('a->b->c') });
  const jobName = (step: string) => objects().find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === step)!.metadata.name;

  test('get jobs -l ... -o json: aggregated discovery, then one list with the selector; kubectl prints a List', async () => {
    const f = await apiFixture(objects());
    try {
      f.cluster.patch('ml', jobName('a'), { spec: { suspend: false } });
      f.cluster.step(1_700_000_004);
      const r = await f.run('get', 'jobs', '-n', 'ml', '-l', 'mlops.cdk8s.io/pipeline=demo', '--chunk-size=0', '-o', 'json');
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(f.requests.map((q) => `${q.verb} ${q.url} ${q.code}`)).toEqual([
        'discovery /api?timeout=32s 200',
        'discovery /apis?timeout=32s 200',
        'list /apis/batch/v1/namespaces/ml/jobs?labelSelector=mlops.cdk8s.io%2Fpipeline%3Ddemo 200',
      ]);
      const list = JSON.parse(r.stdout);
      expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
      expect(list.items).toHaveLength(4);
      const a = list.items.find((i: any) => i.metadata.name === jobName('a'));
      expect(a).toMatchObject({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { namespace: 'ml', creationTimestamp: '2023-11-14T22:13:20Z', labels: { 'mlops.cdk8s.io/step': 'a' } },
        spec: { suspend: false, backoffLimit: 0, completions: 1, parallelism: 1, completionMode: 'NonIndexed' },
        status: { active: 1, ready: 1, startTime: '2023-11-14T22:13:20Z', conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }] },
      });
      // A second call reads discovery from kubectl's cache under $HOME.
      await f.run('get', 'jobs', '-n', 'ml', '-l', 'mlops.cdk8s.io/step=b', '--chunk-size=0', '-o', 'json');
      expect(f.requests.slice(3).map((q) => q.verb)).toEqual(['list']);
    } finally {
      f.close();
    }
  });

  test('without --chunk-size=0 kubectl pages by 500: limit and continue return every Job once', async () => {
    const base = objects();
    const job = base.find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === 'a')!;
    const extra = Array.from({ length: 510 }, (_, i) => ({ ...job, metadata: { ...job.metadata, name: `extra-${String(i).padStart(3, '0')}` } }));
    const f = await apiFixture([...base, ...extra]);
    try {
      const r = await f.run('get', 'jobs', '-n', 'ml', '-l', 'mlops.cdk8s.io/pipeline=demo', '-o', 'json');
      expect(r.code).toBe(0);
      const names = JSON.parse(r.stdout).items.map((i: any) => i.metadata.name);
      expect(names).toHaveLength(514);
      expect(new Set(names).size).toBe(514);
      const lists = f.requests.filter((q) => q.verb === 'list');
      expect(lists.map((q) => q.url.replace(/continue=[^&]+/, 'continue=…'))).toEqual([
        '/apis/batch/v1/namespaces/ml/jobs?labelSelector=mlops.cdk8s.io%2Fpipeline%3Ddemo&limit=500',
        '/apis/batch/v1/namespaces/ml/jobs?continue=…&labelSelector=mlops.cdk8s.io%2Fpipeline%3Ddemo&limit=500',
      ]);
    } finally {
      f.close();
    }
  });

  test('patch --type=merge: kubectl GETs the Job, then sends the merge patch; null deletes', async () => {
    const f = await apiFixture(objects());
    const name = jobName('b');
    try {
      expect(await f.run('patch', 'job', name, '-n', 'ml', '--type=merge', '-p', '{"metadata":{"annotations":{"x":"1"}}}')).toMatchObject({ code: 0, stdout: `job.batch/${name} patched\n` });
      expect(f.requests.filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.url}`)).toEqual([
        `get /apis/batch/v1/namespaces/ml/jobs/${name}`,
        `patch /apis/batch/v1/namespaces/ml/jobs/${name}?fieldManager=kubectl-patch`,
      ]);
      expect((await f.run('patch', `job/${name}`, '-n', 'ml', '--type', 'merge', '-p', '{"metadata":{"annotations":{"x":"1"}}}')).stdout).toBe(`job.batch/${name} patched (no change)\n`);
      await f.run('patch', 'jobs.batch', name, '--namespace=ml', '--type=merge', '--patch={"metadata":{"annotations":{"x":null}}}');
      expect(f.cluster.job('ml', name)!.obj.metadata.annotations!.x).toBeUndefined();
    } finally {
      f.close();
    }
  });

  test('errors are Status objects worded like the API server, printed by kubectl as users see them', async () => {
    const f = await apiFixture(objects());
    const a = jobName('a');
    try {
      expect(await f.run('patch', 'job', a, '-n', 'ml', '--type=merge', '-p', '{"spec":{"completions":9}}')).toMatchObject({
        code: 1,
        stderr: `The Job "${a}" is invalid: spec.completions: Invalid value: 9: field is immutable\n`,
      });
      expect(await f.run('patch', 'job', 'other', '-n', 'ml', '--type=merge', '-p', '{}')).toMatchObject({
        code: 1,
        stderr: 'Error from server (Forbidden): jobs.batch "other" is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot get resource "jobs" in API group "batch" in the namespace "ml"\n',
      });
      expect((await f.run('get', 'jobs', '-A', '-o', 'json')).stderr).toBe(
        'Error from server (Forbidden): jobs.batch is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot list resource "jobs" in API group "batch" at the cluster scope\n',
      );
      expect((await f.run('get', 'configmaps', '-n', 'ml', '-o', 'json')).stderr).toContain('cannot list resource "configmaps" in API group "" in the namespace "ml"');
      expect((await f.run('patch', 'job', a, '-n', 'ml', '--type=merge', '-p', '{"spec":{"suspend":"false"}}')).stderr).toContain('cannot unmarshal string');
      // A Job the Role names but that does not exist (deleted by its TTL, say): 404 after the GET.
      f.cluster.deleteJob('ml', a, 'test');
      expect(await f.run('patch', 'job', a, '-n', 'ml', '--type=merge', '-p', '{}')).toMatchObject({ code: 1, stderr: `Error from server (NotFound): jobs.batch "${a}" not found\n` });
    } finally {
      f.close();
    }
  });

  test('a token the API server does not know is 401, and kubectl says so as it does against EKS and others', async () => {
    const f = await apiFixture(objects());
    try {
      const fs = await import('fs');
      fs.writeFileSync(f.config, fs.readFileSync(f.config, 'utf8').replace('token-of-the-coordinator-pod', 'stolen'));
      const r = await f.run('get', 'jobs', '-n', 'ml', '-o', 'json');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error: You must be logged in to the server (the server has asked for the client to provide credentials)');
      expect(f.requests.every((q) => q.code === 401)).toBe(true);
    } finally {
      f.close();
    }
  });

  test('the kubeconfig holds any token and namespace as strings: a hex token of digits is not a number to kubectl', async () => {
    const f = await apiFixture(objects());
    try {
      const fs = await import('fs');
      fs.writeFileSync(f.config, f.api.kubeconfig('1234567e89', '2026'));
      const r = await f.run('config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.token} {.contexts[0].context.namespace}');
      expect(r).toEqual({ code: 0, stdout: '1234567e89 2026', stderr: '' });
    } finally {
      f.close();
    }
  });

  test('authorization follows the RoleBinding: a binding to another ServiceAccount grants nothing; a deleted Role is named', async () => {
    const other = edit(objects(), 'RoleBinding', (b) => (b.subjects[0].name = 'someone-else'));
    const f = await apiFixture(other);
    try {
      expect((await f.run('get', 'jobs', '-n', 'ml', '-o', 'json')).stderr).toContain('cannot list resource "jobs"');
    } finally {
      f.close();
    }
    const g = await apiFixture(objects());
    try {
      const role = g.cluster.objects().find((o) => o.kind === 'Role')!;
      g.cluster.deleteObject('Role', 'ml', role.metadata.name);
      expect((await g.run('get', 'jobs', '-n', 'ml', '-o', 'json')).stderr).toBe(
        `Error from server (Forbidden): jobs.batch is forbidden: User "system:serviceaccount:ml:demo-coordinator" cannot list resource "jobs" in API group "batch" in the namespace "ml": RBAC: role.rbac.authorization.k8s.io "${role.metadata.name}" not found\n`,
      );
    } finally {
      g.close();
    }
  });

  test('a suspended Job that never started may get new template annotations (values for a step); a started one may not', async () => {
    const f = await apiFixture(objects());
    const [a, b] = [jobName('a'), jobName('b')];
    const annotate = (job: string) =>
      f.run('patch', 'job', job, '-n', 'ml', '--type=merge', '-p', '{"spec":{"template":{"metadata":{"annotations":{"in.mlops.cdk8s.io/x":"0.9"}}}}}');
    try {
      expect(await annotate(b)).toMatchObject({ code: 0, stdout: `job.batch/${b} patched\n` });
      expect(f.cluster.job('ml', b)!.obj.spec.template.metadata.annotations['in.mlops.cdk8s.io/x']).toBe('0.9');
      // The container is not a scheduling directive.
      expect((await f.run('patch', 'job', b, '-n', 'ml', '--type=merge', '-p', '{"spec":{"template":{"spec":{"activeDeadlineSeconds":5}}}}')).stderr).toMatch(
        new RegExp(`^The Job "${b}" is invalid: spec.template: Invalid value: .*: field is immutable\n$`),
      );
      f.cluster.patch('ml', a, { spec: { suspend: false } });
      f.cluster.patch('ml', a, { spec: { suspend: true } });
      expect((await annotate(a)).stderr).toMatch(new RegExp(`^The Job "${a}" is invalid: spec.template: Invalid value: .*: field is immutable\n$`));
      // backoffLimit, unlike completions, may change (ValidateJobSpecUpdate does not list it).
      expect(await f.run('patch', 'job', a, '-n', 'ml', '--type=merge', '-p', '{"spec":{"backoffLimit":9}}')).toMatchObject({ code: 0 });
    } finally {
      f.close();
    }
  });

  test('merge patch follows RFC 7386', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
    expect(mergePatch({ a: 1 }, 'x')).toBe('x');
  });
});
