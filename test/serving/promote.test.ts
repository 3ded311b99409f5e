import { readFileSync } from 'fs';
import { join } from 'path';
import { App } from 'cdk8s';
import {
  ApprovedModel, ContainerStep, Evaluate, Features, Model, ModelRegistry, ModelServer, Pipeline, Promote, PromoteProps, PromotionHooks, RegistryAccess,
  ServingRuntime, ServingSplit, Threshold,
} from '../../src';
import { verifyObjects } from '../../src/verify';
import { envOf, expectSynthFailure, findOne, K8sObject, stepJobs, synth } from '../support/synth';
import { promotedPipeline } from './promote-fixtures';

const SCRIPT = readFileSync(join(__dirname, '..', '..', 'assets', 'promote.sh'), 'utf8');
const registry = ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });

function errorsOf(objects: K8sObject[]) {
  return verifyObjects(objects).problems.filter((p) => p.severity === 'error');
}

/** A promotion that tells no server: valid, no hook env, and no token, ServiceAccount or Role. */
function expectNoHooksAndNoToken(objects: K8sObject[]) {
  expect(errorsOf(objects)).toEqual([]);
  const pod = stepJobs(objects).promote.spec.template.spec;
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(pod.serviceAccountName).toBeUndefined();
  expect(envOf(pod.containers[0]).MLOPS_PROMOTION_HOOKS).toBeUndefined();
  expect(objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind) && o.metadata.name === 'churn-promote')).toEqual([]);
}

/** train -> evaluate (+ gate) -> promote, with `props` over the defaults. */
function promotion(app: App, props: (evaluate: Evaluate, p: Pipeline) => Partial<PromoteProps> = () => ({})) {
  const p = new Pipeline(app, 'churn', { namespace: 'ml', defaults: { image: 'ghcr.io/acme/churn:1.0.0' } });
  const train = new ContainerStep(p, 'train', { outputs: { model: Model, test: Features } });
  const evaluate = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: train.outputs.test, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)] });
  return new Promote(p, 'promote', { model: evaluate.approvedModel, registry, modelName: 'churn', ...props(evaluate, p) });
}

describe('Promote', () => {
  test('a library step after the gate: the registry read-write, the script from its ConfigMap, restricted, and a Role on exactly the image server', () => {
    const { objects } = synth((app) => { promotedPipeline(app); });
    expect(errorsOf(objects)).toEqual([]);
    const jobs = stepJobs(objects);
    const job = jobs.promote;
    // Released only once the gate approved: a rejected model never reaches it.
    expect(job.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('evaluate,evaluate-gate');
    const pod = job.spec.template.spec;
    const [container] = pod.containers;
    expect(container.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(container.command).toEqual(['/bin/bash', '/etc/mlops/promote.sh']);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    const env = envOf(container);
    expect(env).toMatchObject({
      MLOPS_REGISTRY_MODEL: '/mnt/registry/churn',
      MLOPS_MODEL_NAME: 'churn',
      MLOPS_SELF: { fieldRef: { fieldPath: 'metadata.labels[\'batch.kubernetes.io/job-name\']' } },
      MLOPS_INPUT_MODEL: jobs.train.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_OUTPUT_MODEL').value,
      MLOPS_INPUT_METRICS: jobs.evaluate.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLOPS_OUTPUT_METRICS').value,
    });
    expect(JSON.parse(env.MLOPS_GATE)).toEqual({ step: 'evaluate-gate', thresholds: [{ metric: 'auc', op: '>=', value: 0.8 }, { metric: 'auc', op: '>=', tolerance: 0.01 }] });
    // TensorFlow Serving polls its folder: only the image server is told.
    expect(JSON.parse(env.MLOPS_PROMOTION_HOOKS)).toEqual([
      { description: 'restart deployment/churn-server', command: ['kubectl', 'rollout', 'restart', 'deployment/churn-server'] },
    ]);
    const script = pod.volumes.find((v: any) => v.configMap).configMap.name;
    expect(findOne(objects, 'ConfigMap', (o) => o.metadata.name === script).data).toEqual({ 'promote.sh': SCRIPT });
    expect(pod.volumes).toContainEqual({ name: 'volume-0', persistentVolumeClaim: { claimName: 'model-registry' } });
    expect(container.volumeMounts).toContainEqual({ name: 'volume-0', mountPath: '/mnt/registry' });
    expect(container.volumeMounts).toContainEqual({ name: 'volume-1', mountPath: '/etc/mlops', readOnly: true });

    expect(pod.serviceAccountName).toBe('churn-promote');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(findOne(objects, 'ServiceAccount', (o) => o.metadata.name === 'churn-promote').automountServiceAccountToken).toBe(false);
    expect(findOne(objects, 'Role', (o) => o.metadata.name === 'churn-promote').rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['churn-server'] },
    ]);
    const binding = findOne(objects, 'RoleBinding', (o) => o.metadata.name === 'churn-promote');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'churn-promote' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'churn-promote', namespace: 'ml' }]);
    // Serving depends on no Job: the Deployments name the registry, never the promotion.
    for (const d of objects.filter((o) => o.kind === 'Deployment')) expect(JSON.stringify(d)).not.toMatch(/promote|workspace/);
  });

  test('nothing to tell (TensorFlow Serving, a pinned server): no ServiceAccount, no Role, no token', () => {
    const { objects } = synth((app) => {
      promotion(app, (_e, p) => ({
        notify: [
          new ModelServer(p, 'tf', { model: 'churn', registry, runtime: ServingRuntime.tensorflowServing() }),
          new ModelServer(p, 'pinned', { model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }), version: 3 }),
        ],
      }));
    });
    expectNoHooksAndNoToken(objects);
  });

  test('a split (both tracks pinned) and MLServer (its reloader loads new versions) need nothing; a plain image server is restarted', () => {
    const { objects } = synth((app) => {
      promotion(app, (_e, p) => ({
        notify: [
          new ModelServer(p, 'churn-split', {
            model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }), version: 6, split: ServingSplit.canary({ version: 7, share: 10 }),
          }),
          new ModelServer(p, 'churn-server', { model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }) }),
          new ModelServer(p, 'churn-ml', { model: 'churn', registry, runtime: ServingRuntime.mlserver({ implementation: 'mlserver_sklearn.SKLearnModel' }) }),
        ],
      }));
    });
    expect(errorsOf(objects)).toEqual([]);
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(['churn-ml', 'churn-server', 'churn-split', 'churn-split-canary']);
    expect(JSON.parse(envOf(stepJobs(objects).promote.spec.template.spec.containers[0]).MLOPS_PROMOTION_HOOKS))
      .toEqual([{ description: 'restart deployment/churn-server', command: ['kubectl', 'rollout', 'restart', 'deployment/churn-server'] }]);
    expect(findOne(objects, 'Role', (o) => o.metadata.name === 'churn-promote').rules[0].resourceNames).toEqual(['churn-server']);
  });

  test('Triton polls its repository: the promotion does not restart it, and its Role names only the image server', () => {
    let triton: ModelServer | undefined;
    const { objects } = synth((app) => {
      promotion(app, (_e, p) => {
        triton = new ModelServer(p, 'churn-triton', { model: 'churn', registry, runtime: ServingRuntime.triton() });
        return { notify: [triton, new ModelServer(p, 'churn-server', { model: 'churn', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' }) })] };
      });
    });
    expect(errorsOf(objects)).toEqual([]);
    expect(triton!.promotionHooks()).toEqual([]);
    // It follows new versions by polling: --model-control-mode=poll on the registry's model folder.
    const tritonArgs = findOne(objects, 'Deployment', (o) => o.metadata.name === 'churn-triton').spec.template.spec.containers[0].args;
    expect(tritonArgs).toContain('--model-control-mode=poll');
    expect(JSON.parse(envOf(stepJobs(objects).promote.spec.template.spec.containers[0]).MLOPS_PROMOTION_HOOKS))
      .toEqual([{ description: 'restart deployment/churn-server', command: ['kubectl', 'rollout', 'restart', 'deployment/churn-server'] }]);
    expect(findOne(objects, 'Role', (o) => o.metadata.name === 'churn-promote').rules)
      .toEqual([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['churn-server'] }]);
    expect(JSON.stringify(objects.filter((o) => ['Role', 'RoleBinding', 'ServiceAccount'].includes(o.kind)))).not.toContain('churn-triton');
  });

  test('Triton alone (and a pinned Triton, the rollback) needs nothing: no ServiceAccount, no Role, no token', () => {
    const { objects } = synth((app) => {
      promotion(app, (_e, p) => ({
        notify: [
          new ModelServer(p, 'churn-triton', { model: 'churn', registry, runtime: ServingRuntime.triton() }),
          new ModelServer(p, 'churn-triton-pinned', { model: 'churn', registry, runtime: ServingRuntime.triton(), version: 4 }),
        ],
      }));
    });
    expectNoHooksAndNoToken(objects);
  });

  test('hooks of several servers and custom hooks share one Role: one rule per kind, names merged', () => {
    const { objects } = synth((app) => {
      promotion(app, (_e, p) => {
        const image = ServingRuntime.image({ image: 'ghcr.io/acme/churn-server:1.4.0' });
        return {
          notify: [
            new ModelServer(p, 'b-server', { model: 'churn', registry, runtime: image }),
            new ModelServer(p, 'a-server', { model: 'churn', registry, runtime: image }),
            PromotionHooks.custom({ description: 'log it', command: ['bash', '-c', 'echo "$MLOPS_VERSION"'], rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['ab'] }] }),
          ],
        };
      });
    });
    expect(findOne(objects, 'Role', (o) => o.metadata.name === 'churn-promote').rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['a-server', 'b-server'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['ab'] },
    ]);
    expect(JSON.parse(envOf(stepJobs(objects).promote.spec.template.spec.containers[0]).MLOPS_PROMOTION_HOOKS).map((h: any) => h.description))
      .toEqual(['restart deployment/b-server', 'restart deployment/a-server', 'log it']);
  });

  test('the pipeline run id reaches the lineage', () => {
    const { objects } = synth((app) => { promotedPipeline(app, { runId: 'nightly-42' }); });
    expect(envOf(stepJobs(objects).promote.spec.template.spec.containers[0]).MLOPS_RUN_ID).toBe('nightly-42');
  });

  test('only an approved model compiles (tsc checks the @ts-expect-error lines), and a cast fails at synth', () => expectSynthFailure((app) => {
    const p = new Pipeline(app, 'types', { defaults: { image: 'ghcr.io/acme/churn:1.0.0' } });
    const train = new ContainerStep(p, 'train', { outputs: { model: Model } });
    const promote = (model: ApprovedModel) => model;
    // @ts-expect-error a trained model that no gate approved is not an ApprovedModel
    promote(train.outputs.model);
    // @ts-expect-error nor is it accepted by Promote
    new Promote(p, 'promote', { model: train.outputs.model, registry, modelName: 'churn' });
  }, '[types/promote] \'model\' is the Model types/train.model, not an approved model: promote only what a gate approved, e.g. model: evaluate.approvedModel'));
});

describe('Promote: bad input (the path, the value, the fix; nothing written)', () => {
  test('a registry opened read-only', () => expectSynthFailure(
    (app) => promotion(app, () => ({ registry: ModelRegistry.fromClaimName('models-ro', { access: RegistryAccess.READ_ONLY_MANY }) })),
    '[churn/promote] registry claim \'models-ro\' is ReadOnlyMany, and promotion writes into it; promote through a ReadWriteMany (or ReadWriteOnce) '
      + 'claim of the same volume, and let servers read the ReadOnlyMany one',
  ));

  test('an invalid model name', () => expectSynthFailure(
    (app) => promotion(app, () => ({ modelName: 'Churn_v2' })),
    '[churn/promote] modelName \'Churn_v2\' is not a valid model name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit',
  ));

  test('an unapproved model, from JavaScript where tsc cannot stop it', () => expectSynthFailure(
    (app) => promotion(app, (evaluate) => ({ model: evaluate.approvedModel.model as unknown as ApprovedModel })),
    '[churn/promote] \'model\' is the Model churn/train.model, not an approved model: promote only what a gate approved, e.g. model: evaluate.approvedModel',
  ));

  test('a server of another model', () => expectSynthFailure(
    (app) => promotion(app, (_e, p) => ({ notify: [new ModelServer(p, 'fraud', { model: 'fraud', registry, runtime: ServingRuntime.image({ image: 'ghcr.io/acme/fraud:1.0.0' }) })] })),
    '[churn/promote] notify: a server of model \'fraud\' cannot follow promotions of \'churn\'; notify only servers of \'churn\', or promote \'fraud\' in its own step',
  ));
});
