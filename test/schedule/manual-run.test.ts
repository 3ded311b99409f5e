import { Duration, Testing } from 'cdk8s';
import { ContainerStep, Dataset, Pipeline, PlainBackend } from '../../src';
import { ManifestObject } from '../../src/verify/simulator/types';
import { apiFixture, OTHER_CLIENTS, realKubectl } from '../support/kubectl';

/**
 * The one documented command that starts a run by hand, `kubectl create job
 * --from=cronjob/<pipeline> <run>`, run with real kubectl clients against the loopback API
 * server holding the synthesized objects, as someone allowed to read the CronJob and create Jobs.
 */
function onDemand(): ManifestObject[] {
  const app = Testing.app();
  const p = new Pipeline(app, 'nightly', {
    namespace: 'ml',
    defaults: { image: 'registry.example.com/ml/step:1.0' },
    backend: new PlainBackend({ pollInterval: Duration.seconds(30) }),
    onDemand: {},
  });
  const ingest = new ContainerStep(p, 'ingest', { outputs: { raw: Dataset } });
  new ContainerStep(p, 'train', { inputs: { raw: ingest.outputs.raw } });
  return Testing.synth(p) as ManifestObject[];
}

/** What a person who starts runs may do: read the CronJob, create Jobs. */
const OPERATOR: ManifestObject[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'operator', namespace: 'ml' } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'run-pipelines', namespace: 'ml' },
    rules: [{ apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get'] }, { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'run-pipelines', namespace: 'ml' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'run-pipelines' },
    subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: 'ml' }],
  },
];

// kubectl 1.33 sends the new Job as protobuf, which the loopback API server does not decode.
describe.each([
  ['1.28 (the dev dependency)', realKubectl().path, true],
  // Before 1.28 kubectl wrote the owner reference without controller: true, so the CronJob
  // controller does not count such a run as its own: the history limits never delete it.
  ['1.27', OTHER_CLIENTS['1.27'], undefined],
])('kubectl %s create job --from=cronjob/nightly', (_version, client, controller) => {
  test('creates the run\'s coordinator Job from the suspended CronJob\'s template', async () => {
    const objects = onDemand();
    const cronJob = objects.find((o) => o.kind === 'CronJob')!;
    const f = await apiFixture([...objects, ...OPERATOR], { namespace: 'ml', name: 'operator' }, client);
    try {
      const r = await f.run('create', 'job', '--from=cronjob/nightly', 'nightly-manual-1', '-n', 'ml');
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('job.batch/nightly-manual-1 created\n');
      const job = f.cluster.job('ml', 'nightly-manual-1')!.obj;
      expect(job.metadata.labels).toMatchObject({ 'mlops.cdk8s.io/pipeline': 'nightly', 'mlops.cdk8s.io/role': 'coordinator' });
      expect(job.metadata.annotations).toMatchObject({ 'cronjob.kubernetes.io/instantiate': 'manual' });
      expect(job.metadata.ownerReferences).toHaveLength(1);
      expect(job.metadata.ownerReferences[0]).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly' });
      expect(job.metadata.ownerReferences[0].controller).toBe(controller);
      const container = job.spec.template.spec.containers[0];
      expect(container).toEqual(cronJob.spec.jobTemplate.spec.template.spec.containers[0]);
      // The run id and uid the prelude reads through the downward API are on its pods' template.
      expect(job.spec.template.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'nightly-manual-1', 'batch.kubernetes.io/controller-uid': job.metadata.uid });
    } finally {
      f.close();
    }
  });
});
