import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { ModelRegistry, ModelServer, ModelServerProps, RegistryAccess, ServingRuntime, ServingSplit, TrafficSplit } from '../../src';
import { MlopsValidation, ValidationContextLike, verifyObjects } from '../../src/verify';
import { expectSynthFailure, findOne, K8sObject, synth } from '../support/synth';

const registry = ModelRegistry.fromClaimName('model-registry', { access: RegistryAccess.READ_WRITE_MANY });
const base: ModelServerProps = { model: 'recommend', registry, runtime: ServingRuntime.tensorflowServing() };

function serve(props: Partial<ModelServerProps>): { objects: K8sObject[]; warnings: string[] } {
  const warnings: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { warnings.push(String(chunk)); return true; });
  try {
    const { objects } = synth((app) => {
      new ModelServer(new Chart(app, 'serving', { namespace: 'ml' }), 'rec', { ...base, ...props });
    });
    return { objects, warnings };
  } finally {
    spy.mockRestore();
  }
}

const errorsOf = (objects: K8sObject[]) => verifyObjects(objects).problems.filter((p) => p.severity === 'error');
const named = (objects: K8sObject[], kind: string, name: string) => findOne(objects, kind, (o) => o.metadata.name === name);
const selects = (selector: Record<string, string>, pod: K8sObject) => Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v);

describe('a canary behind one Service: a replica ratio by default', () => {
  const canary = { version: 12, replicas: 10, split: ServingSplit.canary({ version: 13, share: 10 }) };

  test('two Deployments, 9 and 1 replicas, one Service selecting both; each Deployment only its own pods; strict 1.27 schema', () => {
    const { objects, warnings } = serve(canary);
    expect(errorsOf(objects)).toEqual([]);
    expect(warnings).toEqual([]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/rec-model-config', 'Deployment/rec', 'ConfigMap/rec-canary-model-config', 'Deployment/rec-canary',
      'Service/rec', 'PodDisruptionBudget/rec', 'NetworkPolicy/rec',
    ]);
    const stable = named(objects, 'Deployment', 'rec');
    const trial = named(objects, 'Deployment', 'rec-canary');
    expect([stable.spec.replicas, trial.spec.replicas]).toEqual([9, 1]);
    expect(stable.spec.template.metadata.labels).toMatchObject({ 'mlops.cdk8s.io/track': 'stable', 'mlops.cdk8s.io/version': '12' });
    expect(trial.spec.template.metadata.labels).toMatchObject({ 'mlops.cdk8s.io/track': 'canary', 'mlops.cdk8s.io/version': '13' });
    // Each version pinned through its own TensorFlow Serving model config.
    expect(named(objects, 'ConfigMap', 'rec-model-config').data['models.config']).toContain('versions: 12');
    expect(named(objects, 'ConfigMap', 'rec-canary-model-config').data['models.config']).toContain('versions: 13');
    expect(trial.spec.template.spec.volumes).toContainEqual({ name: 'model-config', configMap: { name: 'rec-canary-model-config' } });
    // Deployments must not overlap; the Service, budget and policy cover both versions' pods.
    expect(selects(stable.spec.selector.matchLabels, trial.spec.template)).toBe(false);
    expect(selects(trial.spec.selector.matchLabels, stable.spec.template)).toBe(false);
    for (const d of [stable, trial]) {
      expect(selects(d.spec.selector.matchLabels, d.spec.template)).toBe(true);
      expect(selects(findOne(objects, 'Service').spec.selector, d.spec.template)).toBe(true);
      expect(selects(findOne(objects, 'PodDisruptionBudget').spec.selector.matchLabels, d.spec.template)).toBe(true);
      expect(selects(findOne(objects, 'NetworkPolicy').spec.podSelector.matchLabels, d.spec.template)).toBe(true);
    }
    expect(findOne(objects, 'Service').metadata.annotations).toEqual({
      'mlops.cdk8s.io/split': 'stable=12 90% (9 pods), canary=13 10% (1 pod); this Service splits per pod, not per request',
    });
  });

  test('too few replicas for the share is a warning naming the pods the ratio really gives and the fix', () => {
    const { objects, warnings } = serve({ ...canary, replicas: 4 });
    expect(errorsOf(objects)).toEqual([]);
    expect(warnings).toEqual(['[serving/rec] warning: a 10% canary share is 1 of 4 pods (25%) as a replica ratio: set replicas to a multiple of 10 '
      + 'for 10%, or use trafficSplit: TrafficSplit.httpRoute({ gateway }) for exact weights\n']);
  });

  test('promoting the canary (version 13, split removed): the Deployment keeps its name and selector and rolls to 13; the canary objects leave', () => {
    const before = serve(canary).objects;
    const after = serve({ version: 13, replicas: 10 }).objects;
    expect(errorsOf(after)).toEqual([]);
    const [was, now] = [named(before, 'Deployment', 'rec'), named(after, 'Deployment', 'rec')];
    // A Deployment's selector is immutable: promotion must not change it, or apply fails.
    expect(now.spec.selector).toEqual(was.spec.selector);
    expect(now.spec.replicas).toBe(10);
    expect(named(after, 'ConfigMap', 'rec-model-config').data['models.config']).toContain('versions: 13');
    expect(now.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    const names = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names(before).filter((n) => !names(after).includes(n))).toEqual(['ConfigMap/rec-canary-model-config', 'Deployment/rec-canary']);
    expect(findOne(after, 'Service').spec).toEqual(findOne(before, 'Service').spec);
  });
});

describe('an A/B test with autoscaling', () => {
  test('an autoscaler per version with the bounds divided by the share; the ratio drifts, and the Service says so', () => {
    const { objects } = serve({
      runtime: ServingRuntime.mlserver({ implementation: 'mlserver_lightgbm.LightGBMModel' }),
      split: ServingSplit.abTest({ a: 4, b: 5 }), autoscaling: { minReplicas: 4, maxReplicas: 10 }, minAvailable: 2,
    });
    expect(errorsOf(objects)).toEqual([]);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => [h.metadata.name, h.spec.scaleTargetRef.name, h.spec.minReplicas, h.spec.maxReplicas])).toEqual([
      ['rec', 'rec', 2, 5], ['rec-b', 'rec-b', 2, 5],
    ]);
    for (const name of ['rec', 'rec-b']) expect(named(objects, 'Deployment', name).spec.replicas).toBeUndefined();
    // Both pinned: no reloader, each init container links its own version.
    const inits = ['rec', 'rec-b'].map((n) => named(objects, 'Deployment', n).spec.template.spec);
    expect(inits.map((p) => p.containers.length)).toEqual([1, 1]);
    expect(inits.map((p) => p.initContainers[0].command[5])).toEqual(['4', '5']);
    expect(findOne(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(findOne(objects, 'Service').metadata.annotations['mlops.cdk8s.io/split']).toBe(
      'a=4 50% (2-5 pods), b=5 50% (2-5 pods); this Service splits per pod, not per request, and the ratio drifts as the autoscalers scale each version on its own');
  });
});

describe('opt-in HTTPRoute: exact weights through the Gateway API', () => {
  const routed = () => serve({
    version: 12, replicas: 10, split: ServingSplit.canary({ version: 13, share: 10 }),
    trafficSplit: TrafficSplit.httpRoute({ gateway: { name: 'public', namespace: 'infra', sectionName: 'https' } }),
  }).objects;

  test('a Service per version and an HTTPRoute weighing them 90/10, valid against the HTTPRoute CRD schema, saying it needs the CRD', () => {
    const objects = routed();
    const route = findOne(objects, 'HTTPRoute');
    // verify checks the route against the Gateway API v1.0.0 CRD schema it ships, as strictly as the core objects against 1.27.
    expect(verifyObjects(objects).problems).toEqual([]);
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.metadata.annotations['mlops.cdk8s.io/requires-crd']).toMatch(/^httproutes\.gateway\.networking\.k8s\.io \(Gateway API v1\.0 or later/);
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra', sectionName: 'https' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([
      { kind: 'Service', name: 'rec-stable', port: 8501, weight: 90 },
      { kind: 'Service', name: 'rec-canary', port: 8501, weight: 10 },
    ]);
    // Each weighted Service selects exactly its version's pods.
    for (const [service, deployment] of [['rec-stable', 'rec'], ['rec-canary', 'rec-canary']]) {
      const selector = named(objects, 'Service', service).spec.selector;
      expect(selects(selector, named(objects, 'Deployment', deployment).spec.template)).toBe(true);
      for (const other of objects.filter((o) => o.kind === 'Deployment' && o.metadata.name !== deployment)) expect(selects(selector, other.spec.template)).toBe(false);
    }
    expect(findOne(objects, 'Service', (o) => o.metadata.name === 'rec').metadata.annotations['mlops.cdk8s.io/split']).toBe(
      'stable=12 90% (9 pods), canary=13 10% (1 pod); the HTTPRoute weighs requests exactly; this Service, for callers inside the cluster, splits per pod');
  });

  /** The route as synthesized, and broken three ways: a misspelt field, a weight over the Gateway API's 1000000, no backend name. */
  const brokenRoute = () => {
    const broken = JSON.parse(JSON.stringify(findOne(routed(), 'HTTPRoute')));
    broken.spec.rules[0].backendRefs[0].weigth = 90;
    broken.spec.rules[0].backendRefs[1].weight = 2_000_000;
    delete broken.spec.rules[0].backendRefs[1].name;
    return broken;
  };

  test('verify checks the route strictly: an unknown field, a weight out of range and a missing backend name are errors naming the path and the fix', () => {
    expect(verifyObjects([brokenRoute()], { namespace: 'ml' }).problems.map((p) => `${p.severity} ${p.rule} ${p.message}`)).toEqual([
      'error schema/unknown-field HTTPRoute/ml/rec: unknown field "weigth" at /spec/rules/0/backendRefs/0; did you mean "weight"?',
      'error schema/required HTTPRoute/ml/rec: missing required field "name" at /spec/rules/0/backendRefs/1; add name',
      'error schema/range HTTPRoute/ml/rec: 2000000 at /spec/rules/0/backendRefs/1/weight is out of range; use a number from 0 to 1000000',
    ]);
  });

  test('the cdk8s validation plugin checks the route strictly by default: the valid one passes with no violation, the broken one fails', async () => {
    const { outdir, files } = synth((app) => {
      new ModelServer(new Chart(app, 'serving', { namespace: 'ml' }), 'rec', {
        ...base, version: 12, split: ServingSplit.canary({ version: 13, share: 10 }), trafficSplit: TrafficSplit.httpRoute({ gateway: { name: 'public' } }),
      });
    });
    const brokenManifest = join(mkdtempSync(join(tmpdir(), 'mlops-route-')), 'route.k8s.yaml');
    writeFileSync(brokenManifest, stringify(brokenRoute()));
    const run = async (manifest: string) => {
      const result: { status?: string; rules: string[] } = { rules: [] };
      const context: ValidationContextLike = {
        manifests: [manifest], pkg: 'cdk8s-mlops', version: '0.0.0', metadata: {}, logger: { log: () => undefined },
        report: { addViolation: (v) => { result.rules.push(v.ruleName); }, submit: (status) => { result.status = status; } },
        parseManifest: (p) => parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS()),
      };
      await new MlopsValidation({}).validate(context);
      return result;
    };
    expect(await run(join(outdir, Object.keys(files)[0]))).toEqual({ status: 'success', rules: [] });
    expect(await run(brokenManifest)).toEqual({ status: 'failure', rules: ['error: schema/unknown-field', 'error: schema/required', 'error: schema/range'] });
  });
});

describe('split bad input fails synthesis with a precise error and writes nothing', () => {
  const fails = (props: Partial<ModelServerProps>, message: string, id = 'rec') => expectSynthFailure((app) => {
    new ModelServer(new Chart(app, 'serving'), id, { ...base, ...props });
  }, message);

  test('a canary share of 0', () => fails({ version: 12, split: ServingSplit.canary({ version: 13, share: 0 }) },
    '[serving/rec] split share must be a whole percentage from 1 to 99 (the canary version\'s share of traffic), got 0; '
    + 'to send all traffic to one version, remove split and set version'));
  test('a canary share of 100', () => fails({ version: 12, split: ServingSplit.canary({ version: 13, share: 100 }) },
    '[serving/rec] split share must be a whole percentage from 1 to 99 (the canary version\'s share of traffic), got 100; '
    + 'to send all traffic to one version, remove split and set version'));
  test('an A/B share of 12.5', () => fails({ split: ServingSplit.abTest({ a: 1, b: 2, shareOfB: 12.5 }) },
    '[serving/rec] split share must be a whole percentage from 1 to 99 (the b version\'s share of traffic), got 12.5; '
    + 'to send all traffic to one version, remove split and set version'));
  test('a canary naming the stable version', () => fails({ version: 12, split: ServingSplit.canary({ version: 12, share: 10 }) },
    '[serving/rec] the split names version 12 for both stable and canary; a split needs two different versions'));
  test('an A/B test naming one version twice', () => fails({ split: ServingSplit.abTest({ a: 7, b: 7 }) },
    '[serving/rec] the split names version 7 for both a and b; a split needs two different versions'));
  test('a canary without a pinned stable version', () => fails({ split: ServingSplit.canary({ version: 13, share: 10 }) },
    '[serving/rec] a canary needs the stable version pinned: set version to the version serving now (the canary, 13, '
    + 'would otherwise become the latest and take over the stable pods too)'));
  test('an A/B test next to a pinned version', () => fails({ version: 3, split: ServingSplit.abTest({ a: 4, b: 5 }) },
    '[serving/rec] version 3 and an A/B split both choose versions: remove version, the split serves versions 4 and 5'));
  test('a canary version that is not a whole number', () => fails({ version: 3, split: ServingSplit.canary({ version: -1, share: 5 }) },
    '[serving/rec] split canary version must be a whole, non-negative number (a version folder of the registry), got -1'));
  test('a traffic split without a split', () => fails({ trafficSplit: TrafficSplit.httpRoute({ gateway: { name: 'public' } }) },
    '[serving/rec] trafficSplit is set but there is no split to route: add split (ServingSplit.canary or ServingSplit.abTest) or remove trafficSplit'));
  test('a gateway name that is not a name', () => fails({
    split: ServingSplit.abTest({ a: 1, b: 2 }), trafficSplit: TrafficSplit.httpRoute({ gateway: { name: 'Public Gateway' } }),
  }, '[serving/rec] gateway name \'Public Gateway\' is not a valid Gateway name: use at most 253 lowercase letters, digits, \'-\' and \'.\', '
    + 'starting and ending with a letter or digit'));
  test('a server name too long for the split\'s object names', () => fails({ version: 1, split: ServingSplit.canary({ version: 2, share: 5 }) },
    `[serving/${'r'.repeat(60)}] server name '${'r'.repeat(60)}' has 60 characters, and a split names objects '${'r'.repeat(60)}-canary'; `
    + 'use at most 56 characters: set name or rename the construct', 'r'.repeat(60)));
});
