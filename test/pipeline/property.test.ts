import { App, Duration, Size } from 'cdk8s';
import { Cpu, EnvValue, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import fc from 'fast-check';
import { ContainerStep, Dataset, Gpu, Model, NumberValue, Pipeline, PlainBackend, Workspace, WorkspaceAccess } from '../../src';
import { verifyObjects } from '../../src/verify';
import { synth, synthError } from '../support/synth';

/**
 * Random pipelines built through the public API. A recipe is plain data (so fast-check can
 * print and shrink it); `build` turns it into constructs. Valid recipes must synthesize
 * schema-valid, deterministic YAML; a valid recipe with at least one mistake from `MISTAKES`
 * must fail with the library's own error naming a construct path, never a TypeError.
 * Seeded and bounded, so a failure reproduces with the same seed; a valid run synthesizes
 * twice and validates, so it gets fewer runs than an invalid one, which stops early.
 */
const SEED = 20261127;
const VALID_RUNS = { numRuns: 100, seed: SEED };
const INVALID_RUNS = { numRuns: 150, seed: SEED };

interface StepRecipe {
  readonly image: string;
  readonly retries: unknown;
  readonly timeoutSeconds?: number;
  readonly fanOut: unknown;
  readonly gpu?: number;
  readonly cpuMillis: number;
  readonly memoryMi: [number, number];
  readonly env: Record<string, string>;
  readonly secretEnv?: { readonly name: string; readonly key: string };
  readonly mountPath?: string;
  readonly outputs: readonly string[];
  /** Indexes of earlier steps whose first output this step reads. */
  readonly reads: readonly number[];
  /** Indexes of earlier steps this step waits for with after(). */
  readonly after: readonly number[];
  /** Number values the step declares (a fanned-out step declares none). */
  readonly values: readonly string[];
  /** An earlier step on whose first value this step's condition is (ignored when it has none). */
  readonly when?: number;
  readonly id: string;
}

interface Recipe {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly maxParallel?: unknown;
  readonly runDeadlineSeconds: number;
  readonly ttlSeconds?: number;
  readonly pollSeconds: number;
  readonly coordinatorImage?: string;
  readonly workspace: { readonly sizeMi: number; readonly rwx: boolean };
  readonly steps: readonly StepRecipe[];
  /** A step made to wait for a later one, closing a cycle. */
  readonly cycle?: boolean;
  /** A second pipeline of the same name and namespace in another scope. */
  readonly twin?: boolean;
  /** A step reading an artifact made by hand rather than declared as an output. */
  readonly undeclaredInput?: string;
  /** A condition on a value made by hand rather than declared by its step. */
  readonly undeclaredValue?: string;
}

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,6}[a-z0-9])?$/);
const artifactName = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const valueName = fc.stringMatching(/^[a-z]([a-z0-9_]{0,5}[a-z0-9])?$/);

const validStep = (i: number, earlier: number): fc.Arbitrary<StepRecipe> => fc.record({
  id: fc.constant(`s${i}`),
  image: fc.constantFrom('busybox:1.36', 'ghcr.io/acme/train:1.0', 'registry.example.com:5000/ml/eval@sha256:' + 'a'.repeat(64)),
  retries: fc.integer({ min: 0, max: 100 }),
  timeoutSeconds: fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: undefined }),
  fanOut: fc.integer({ min: 1, max: 8 }),
  gpu: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  cpuMillis: fc.integer({ min: 1, max: 64_000 }),
  memoryMi: fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 4096 })).map(([r, extra]) => [r, r + extra] as [number, number]),
  env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/).filter((n) => !n.startsWith('MLOPS_')), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
  secretEnv: fc.option(fc.record({ name: dnsLabel, key: fc.stringMatching(/^[-._a-zA-Z0-9]{1,12}$/).filter((k) => k !== '.' && k !== '..') }), { nil: undefined }),
  mountPath: fc.option(fc.constantFrom('/etc/creds', '/var/run/secrets/app', '/opt/keys/'), { nil: undefined }),
  outputs: fc.uniqueArray(artifactName, { maxLength: 2 }),
  reads: earlier > 0 ? fc.uniqueArray(fc.nat(earlier - 1), { maxLength: 2 }) : fc.constant([]),
  after: earlier > 0 ? fc.uniqueArray(fc.nat(earlier - 1), { maxLength: 2 }) : fc.constant([]),
  values: fc.uniqueArray(valueName, { maxLength: 2 }),
  when: earlier > 0 ? fc.option(fc.nat(earlier - 1), { nil: undefined }) : fc.constant(undefined),
});

const validRecipe: fc.Arbitrary<Recipe> = fc.integer({ min: 1, max: 5 }).chain((n) => fc.record({
  namespace: dnsLabel,
  labels: fc.dictionary(fc.constantFrom('team', 'example.com/cost-center', 'app.kubernetes.io/name'), dnsLabel, { maxKeys: 2 }),
  maxParallel: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
  runDeadlineSeconds: fc.integer({ min: 60, max: 365 * 86_400 }),
  ttlSeconds: fc.option(fc.integer({ min: 600, max: 365 * 86_400 }), { nil: undefined }),
  pollSeconds: fc.integer({ min: 1, max: 30 }),
  coordinatorImage: fc.option(fc.constantFrom('registry.k8s.io/kubectl:v1.28.15', 'mirror.example.com/kubectl:v1.29.0'), { nil: undefined }),
  workspace: fc.record({ sizeMi: fc.integer({ min: 1, max: 1024 * 1024 }), rwx: fc.boolean() }),
  steps: fc.tuple(...Array.from({ length: n }, (_, i) => validStep(i, i))),
}));

/** One mistake each: what a user may write that the library must refuse with a path. */
type Mistake = (r: Recipe) => Recipe;
const onStep = (edit: (s: StepRecipe) => Partial<StepRecipe>): Mistake => (r) => ({
  ...r, steps: r.steps.map((s, i) => (i === r.steps.length - 1 ? { ...s, ...edit(s) } : s)),
});
const MISTAKES: Record<string, Mistake> = {
  'step id with capitals': onStep(() => ({ id: 'Bad_Id' })),
  'empty step id': onStep(() => ({ id: '' })),
  'image with spaces': onStep(() => ({ image: 'Not An Image; rm -rf /' })),
  'empty image': onStep(() => ({ image: '' })),
  'retries as a string': onStep(() => ({ retries: '3' })),
  'negative retries': onStep(() => ({ retries: -1 })),
  'fractional retries': onStep(() => ({ retries: 1.5 })),
  'zero timeout': onStep(() => ({ timeoutSeconds: 0 })),
  'timeout beyond int64': onStep(() => ({ timeoutSeconds: 1e20 })),
  'NaN timeout': onStep(() => ({ timeoutSeconds: NaN })),
  'zero fan-out': onStep(() => ({ fanOut: 0 })),
  'fan-out beyond an Indexed Job': onStep(() => ({ fanOut: 200_000 })),
  '1e21 GPUs': onStep(() => ({ gpu: 1e21 })),
  'half a GPU': onStep(() => ({ gpu: 0.5 })),
  'zero memory limit': onStep(() => ({ memoryMi: [0, 0] })),
  'memory of 1e9 Ti': onStep(() => ({ memoryMi: [1, 1e9 * 1024 * 1024] })),
  'request above limit': onStep(() => ({ memoryMi: [2048, 1024] })),
  'cpu of 1e21 cores': onStep(() => ({ cpuMillis: 1e24 })),
  'secret name with capitals': onStep(() => ({ secretEnv: { name: 'Bad_Name', key: 'token' } })),
  'secret key with a path': onStep(() => ({ secretEnv: { name: 'creds', key: 'bad key/../x' } })),
  'empty secret key': onStep(() => ({ secretEnv: { name: 'creds', key: '' } })),
  'env name starting with a digit': onStep((s) => ({ env: { ...s.env, '1X': 'v' } })),
  'env name of the platform': onStep((s) => ({ env: { ...s.env, MLOPS_OUTPUT_X: 'v' } })),
  'secret mounted at /': onStep(() => ({ mountPath: '/' })),
  'secret mounted over the workspace': onStep(() => ({ mountPath: '//mnt/./workspace' })),
  'relative mount path': onStep(() => ({ mountPath: 'etc/creds' })),
  'output name with a dash': onStep(() => ({ outputs: ['raw-data'] })),
  'namespace with capitals': (r) => ({ ...r, namespace: 'Team A' }),
  'label in a Kubernetes prefix': (r) => ({ ...r, labels: { 'batch.kubernetes.io/job-name': 'x' } }),
  'label value with a space': (r) => ({ ...r, labels: { team: 'ml platform' } }),
  'maxParallel of 0': (r) => ({ ...r, maxParallel: 0 }),
  'maxParallel as a string': (r) => ({ ...r, maxParallel: '3' }),
  'maxParallel of 1e21': (r) => ({ ...r, maxParallel: 1e21 }),
  'run deadline beyond int64': (r) => ({ ...r, runDeadlineSeconds: 1e20 }),
  'fractional run deadline': (r) => ({ ...r, runDeadlineSeconds: 90.5 }),
  'TTL too short to be seen': (r) => ({ ...r, ttlSeconds: 10 }),
  'TTL beyond int32': (r) => ({ ...r, ttlSeconds: 2 ** 31 }),
  'fractional poll interval': (r) => ({ ...r, pollSeconds: 0.5 }),
  'coordinator image with spaces': (r) => ({ ...r, coordinatorImage: 'Not An Image; rm -rf /' }),
  'workspace of 0 MiB': (r) => ({ ...r, workspace: { ...r.workspace, sizeMi: 0 } }),
  'workspace of 1e12 Ti': (r) => ({ ...r, workspace: { ...r.workspace, sizeMi: 1e12 * 1024 * 1024 } }),
  'a dependency cycle': (r) => ({ ...r, cycle: true }),
  'two pipelines of one name': (r) => ({ ...r, twin: true }),
  'an input that is not a declared output': (r) => ({ ...r, undeclaredInput: '../../../../etc' }),
  'value name with a dash': onStep(() => ({ values: ['model-url'], fanOut: 1 })),
  'value name ending with _': onStep(() => ({ values: ['acc_'], fanOut: 1 })),
  'a condition on a value no step declares': (r) => ({ ...r, undeclaredValue: 'acuracy' }),
};

const invalidRecipe = fc.tuple(validRecipe, fc.uniqueArray(fc.constantFrom(...Object.keys(MISTAKES)), { minLength: 1, maxLength: 3 }))
  .map(([recipe, mistakes]) => ({ mistakes, recipe: mistakes.reduce((r, m) => MISTAKES[m](r), recipe) }));

/** The recipe as constructs, through the public API only. */
function build(app: App, r: Recipe): void {
  const scope = r.twin ? new Construct(app, 'first') : app;
  const pipeline = new Pipeline(scope, 'p', {
    namespace: r.namespace,
    labels: r.labels,
    maxParallel: r.maxParallel as number | undefined,
    runDeadline: Duration.seconds(r.runDeadlineSeconds),
    ttlAfterFinished: r.ttlSeconds === undefined ? undefined : Duration.seconds(r.ttlSeconds),
    workspace: Workspace.claim({
      size: Size.mebibytes(r.workspace.sizeMi),
      access: r.workspace.rwx ? WorkspaceAccess.READ_WRITE_MANY : WorkspaceAccess.READ_WRITE_ONCE,
      storageClassName: r.workspace.rwx ? 'nfs' : undefined,
    }),
    backend: new PlainBackend({ pollInterval: Duration.seconds(r.pollSeconds), coordinatorImage: r.coordinatorImage }),
  });
  const steps: ContainerStep<any>[] = [];
  r.steps.forEach((s) => {
    const secret = s.secretEnv && Secret.fromSecretName(pipeline, `secret-${steps.length}`, s.secretEnv.name);
    const env: Record<string, EnvValue> = Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, EnvValue.fromValue(v)]));
    if (secret) env.SECRET = EnvValue.fromSecretValue({ secret, key: s.secretEnv!.key });
    const inputs = Object.fromEntries(s.reads.filter((i) => Object.keys(steps[i].outputs).length > 0)
      .map((i) => [`in_${i}`, Object.values(steps[i].outputs)[0] as Dataset]));
    steps.push(new ContainerStep(pipeline, s.id, {
      image: s.image,
      retries: s.retries as number,
      timeout: s.timeoutSeconds === undefined ? undefined : Duration.seconds(s.timeoutSeconds),
      fanOut: s.fanOut as number,
      gpu: s.gpu === undefined ? undefined : Gpu.nvidia(s.gpu),
      resources: { cpu: { request: Cpu.millis(s.cpuMillis) }, memory: { request: Size.mebibytes(s.memoryMi[0]), limit: Size.mebibytes(s.memoryMi[1]) } },
      env,
      secretVolumes: s.mountPath === undefined ? undefined : [{ secret: Secret.fromSecretName(pipeline, `volume-${steps.length}`, 'creds'), mountPath: s.mountPath }],
      outputs: Object.fromEntries(s.outputs.map((name, k) => [name, k === 0 ? Dataset : Model])),
      inputs,
      after: s.after.map((i) => steps[i]),
      values: s.fanOut === 1 ? Object.fromEntries(s.values.map((name) => [name, NumberValue])) : undefined,
      when: s.when === undefined ? undefined : (Object.values(steps[s.when].values)[0] as NumberValue | undefined)?.atLeast(0.5),
    }));
  });
  if (r.cycle) steps[0].after(steps[steps.length - 1]);
  if (r.undeclaredInput) steps[steps.length - 1].addInput('hand_made', new Dataset(steps[0], r.undeclaredInput));
  if (r.undeclaredValue) new ContainerStep(pipeline, 'decide', { image: 'busybox:1.36', when: new NumberValue(steps[0], r.undeclaredValue).atLeast(1) });
  if (r.twin) new ContainerStep(new Pipeline(new Construct(app, 'second'), 'p', { namespace: r.namespace }), 'only', { image: 'busybox:1.36' });
}

describe('random pipelines from the public API (property-based, seeded)', () => {
  test('valid ones synthesize strict-1.27-valid, deterministic YAML with no undefined or NaN', () => {
    fc.assert(fc.property(validRecipe, (recipe) => {
      const first = synth((app) => build(app, recipe));
      const second = synth((app) => build(app, recipe));
      expect(second.files).toEqual(first.files);
      const yaml = Object.values(first.files).join('\n');
      expect(yaml).not.toMatch(/\bundefined\b|\bNaN\b|\bInfinity\b|e\+\d/);
      expect(verifyObjects(first.objects).problems.filter((p) => p.severity === 'error')).toEqual([]);
    }), VALID_RUNS);
  });

  test('each with a mistake fails with the library\'s own error naming a construct path, and writes nothing', () => {
    fc.assert(fc.property(invalidRecipe, ({ recipe }) => {
      let thrown: unknown;
      const { message, written } = synthError((app) => {
        try {
          build(app, recipe);
          app.synth();
        } catch (e) {
          thrown = e;
          throw e;
        }
      });
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).constructor).toBe(Error);
      expect(message).toMatch(/^(Validation failed with the following errors:\n {2})?\[[^\]\n]+\] \S/);
      expect(message).not.toMatch(/\bundefined\b|\bNaN\b|^\s+at /m);
      expect(written).toEqual([]);
    }), INVALID_RUNS);
  });
});
