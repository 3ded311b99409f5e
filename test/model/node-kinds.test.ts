import { Testing } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BatchStep, ContainerStep, Dataset, Model, NodeKind, Pipeline, Step, StepOptions } from '../../src';
import { synth, synthError } from '../support/synth';

const image = 'busybox:1.36';

/** A node of a kind no backend of this library renders, as another package might define. */
class ModelServer extends Step {
  public constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  public get kind(): NodeKind {
    return NodeKind.of('server', 'a model server');
  }
}

/** A third-party typed step: only the base's constructor and methods, no pipeline internals. */
class Profile extends BatchStep {
  public constructor(scope: Construct, id: string, dataset: Dataset, options: StepOptions = {}) {
    super(scope, id, { image, args: ['profile'], ...options });
    this.addInput('data', dataset);
    this.addOutput('report', Dataset);
    this.addEnv('PROFILE_DEPTH', EnvValue.fromValue('2'));
  }
}

describe('node kinds', () => {
  test('fails when the backend does not render the node kind, naming the kind, the backend and the fix', () => {
    const result = synthError((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ModelServer(p, 'serve');
    });
    expect(result.message).toBe('[p/serve] the plain backend cannot render a model server (node kind \'server\'); '
      + 'it renders \'batch\', \'gate\': use a backend that renders \'server\' nodes, or another kind of step');
    expect(result.written).toEqual([]);
  });

  test('a batch step is of kind batch, and a subclass gets its defaults resolved by the base', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image: 'ignored:1', retries: 2 } });
      const ingest = new ContainerStep(p, 'ingest', { image, outputs: { raw: Dataset } });
      const profile = new Profile(p, 'profile', ingest.outputs.raw, { timeout: undefined });
      expect(profile.kind.name).toBe('batch');
      expect(profile.upstream).toEqual([ingest]);
    });
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 'profile')!;
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toBe(image);
    expect(container.args).toEqual(['profile']);
    expect(job.spec.backoffLimit).toBe(2);
    expect(container.env.find((e: any) => e.name === 'PROFILE_DEPTH')).toEqual({ name: 'PROFILE_DEPTH', value: '2' });
    expect(container.env.map((e: any) => e.name)).toEqual(expect.arrayContaining(['MLOPS_INPUT_DATA', 'MLOPS_OUTPUT_REPORT']));
  });

  test('changes made after construction through the base reach the graph and the spec', () => {
    const app = Testing.app();
    const p = new Pipeline(app, 'p', { defaults: { image } });
    const a = new ContainerStep(p, 'a', { outputs: { m: Model } });
    const b = new ContainerStep(p, 'b');
    expect(p.graph.upstream(b)).toEqual([]);
    b.addInput('m', a.outputs.m);
    expect(p.graph.upstream(b)).toEqual([a]);
  });
});
