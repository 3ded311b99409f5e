import { Testing } from 'cdk8s';
import { Artifact, ContainerStep, Dataset, Metrics, Model, Pipeline } from '../../src';

// These lines are checked by `tsc` in `npm test`: each @ts-expect-error must really be an
// error, or the type gate fails ("Unused '@ts-expect-error' directive").
function typedWiring() {
  const pipeline = new Pipeline(Testing.app(), 'p', { defaults: { image: 'busybox:1.36' } });
  const ingest = new ContainerStep(pipeline, 'ingest', { outputs: { raw: Dataset } });
  const train = new ContainerStep(pipeline, 'train', { inputs: { raw: ingest.outputs.raw }, outputs: { model: Model, metrics: Metrics } });
  const deploy = (model: Model) => model;

  deploy(train.outputs.model);
  // @ts-expect-error a Dataset is not a Model
  deploy(ingest.outputs.raw);
  // @ts-expect-error a Metrics artifact is not a Model either
  deploy(train.outputs.metrics);
  // @ts-expect-error 'rw' is not a declared output of ingest
  void ingest.outputs.rw;
  // @ts-expect-error a step without outputs exposes none
  void new ContainerStep(pipeline, 'noop').outputs.anything;
  // Plain JavaScript callers get the same check at run time.
  expect(() => new ContainerStep(pipeline, 'bad', {
    // @ts-expect-error inputs take artifacts, not path strings
    inputs: { raw: '/data/raw' },
  })).toThrow('[p/bad] input \'raw\' must be an artifact such as otherStep.outputs.data, got /data/raw');
  // Naming the input kinds makes ContainerStep's inputs as strict as a typed step's.
  new ContainerStep(pipeline, 'score', { inputKinds: { model: Model }, inputs: { model: train.outputs.model } });
  // @ts-expect-error a Dataset wired where the step declared a Model
  expect(() => new ContainerStep(pipeline, 'score2', { inputKinds: { model: Model }, inputs: { model: ingest.outputs.raw } })).toThrow();
  // @ts-expect-error a declared input left unwired
  expect(() => new ContainerStep(pipeline, 'score3', { inputKinds: { model: Model }, inputs: {} }))
    .toThrow('[p/score3] input \'model\' is declared in \'inputKinds\' but not wired; pass it in \'inputs\'');
  expect(() => new ContainerStep(pipeline, 'score4', {
    inputKinds: { model: Model },
    // @ts-expect-error an input the step did not declare
    inputs: { model: train.outputs.model, raw: ingest.outputs.raw },
  })).toThrow('[p/score4] input \'raw\' must be one of the declared inputKinds, got the Dataset p/ingest.raw; wire an artifact of that kind or change \'inputKinds\'');
  return { ingest, train };
}

describe('typed artifacts', () => {
  test('fails at run time too when a JavaScript caller wires an input of another kind than declared', () => {
    const pipeline = new Pipeline(Testing.app(), 'p', { defaults: { image: 'busybox:1.36' } });
    const ingest = new ContainerStep(pipeline, 'ingest', { outputs: { raw: Dataset } });
    const untyped = { inputKinds: { model: Model }, inputs: { model: ingest.outputs.raw } } as object;
    expect(() => new ContainerStep(pipeline, 'score', untyped)).toThrow('[p/score] input \'model\' must be a Model, '
      + 'got the Dataset p/ingest.raw; wire an artifact of that kind or change \'inputKinds\'');
  });

  test('outputs are instances of the declared kinds, produced by their step', () => {
    const { ingest, train } = typedWiring();
    expect(ingest.outputs.raw).toBeInstanceOf(Dataset);
    expect(train.outputs.model).toBeInstanceOf(Model);
    expect(train.outputs.model).toBeInstanceOf(Artifact);
    expect(train.outputs.model.kind).toBe('Model');
    expect(train.outputs.model.producer).toBe(train);
    expect(train.outputs.model.toString()).toBe('p/train.model');
  });
});
