import { Testing } from 'cdk8s';
import { ApprovedModel, Artifact, ContainerStep, DataSource, Dataset, Evaluate, FeatureEngineering, Ingest, Metrics, Model, Pipeline, Threshold, Train } from '../../src';

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

// Every typed step checks the kinds it is wired with; only a gate makes an ApprovedModel.
function typedSteps() {
  const p = new Pipeline(Testing.app(), 'q', { defaults: { image: 'busybox:1.36' } });
  const ingest = new Ingest(p, 'ingest', { source: DataSource.url('https://example.com/rows.csv') });
  const fe = new FeatureEngineering(p, 'fe', { datasets: { raw: ingest.outputs.dataset }, split: { train: 0.8, test: 0.2 } });
  const train = new Train(p, 'train', { features: fe.outputs.train });
  const thresholds = [Threshold.atLeast('auc', 0.8)];
  const evaluate = new Evaluate(p, 'evaluate', { model: train.outputs.model, testData: fe.outputs.test, metrics: ['auc'], thresholds });
  const serve = (model: ApprovedModel) => model;
  serve(evaluate.approvedModel);
  // @ts-expect-error a trained model that no gate approved cannot be served
  serve(train.outputs.model);
  // @ts-expect-error a Model is not an ApprovedModel, even by assignment
  const forged: ApprovedModel = train.outputs.model;
  void forged;
  // @ts-expect-error FeatureEngineering reads datasets, not features
  new FeatureEngineering(p, 'fe2', { datasets: { raw: fe.outputs.train } });
  // @ts-expect-error Train reads features, not a dataset
  new Train(p, 'train2', { features: ingest.outputs.dataset });
  // @ts-expect-error Evaluate takes a model, not features
  new Evaluate(p, 'evaluate2', { model: fe.outputs.test, testData: fe.outputs.test, metrics: ['auc'], thresholds });
  // @ts-expect-error Evaluate's test data are features, not a model
  new Evaluate(p, 'evaluate3', { model: train.outputs.model, testData: train.outputs.model, metrics: ['auc'], thresholds });
  // @ts-expect-error without a split, FeatureEngineering has no train output
  void new FeatureEngineering(p, 'fe3', { datasets: { raw: ingest.outputs.dataset } }).outputs.train;
  // @ts-expect-error an ApprovedModel is not an output kind a step can declare
  expect(() => new ContainerStep(p, 'forge', { outputs: { m: ApprovedModel } })).toThrow('[q/forge] an ApprovedModel comes only from a gate: use evaluate.approvedModel');
  return evaluate;
}

describe('typed artifacts', () => {
  test('only a gate approves a model; its files are the trained model\'s', () => {
    const evaluate = typedSteps();
    expect(evaluate.approvedModel.kind).toBe('ApprovedModel');
    expect(evaluate.approvedModel.producer).toBe(evaluate.gate);
    expect(evaluate.approvedModel.stored.toString()).toBe('q/train.model');
  });

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
