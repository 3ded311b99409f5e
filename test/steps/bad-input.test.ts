import { Baseline, ContainerStep, DataSource, Dataset, Evaluate, FeatureEngineering, Features, Ingest, Model, ObjectStoreCredentials, Pipeline, Threshold, ThresholdComparison, Train } from '../../src';
import { expectSynthFailure } from '../support/synth';

const image = 'ghcr.io/acme/churn:1.0.0';

/** Asserts building fails with exactly `message` and nothing is written. */
function expectFailure(build: (p: Pipeline) => void, message: string) {
  expectSynthFailure((app) => build(new Pipeline(app, 'p', { defaults: { image } })), message);
}

function upstream(p: Pipeline) {
  const raw = new ContainerStep(p, 'raw', { outputs: { data: Dataset, features: Features, model: Model } });
  return raw.outputs;
}

function evaluate(p: Pipeline, props: { metrics?: string[]; thresholds: Threshold[] }) {
  const o = upstream(p);
  return new Evaluate(p, 'evaluate', { model: o.model, testData: o.features, metrics: props.metrics ?? ['auc'], thresholds: props.thresholds });
}

describe('bad input of the typed steps fails with the construct path, the value and the fix, and writes nothing', () => {
  test('fails on a threshold on a metric the evaluation does not declare', () => {
    expectFailure((p) => evaluate(p, { metrics: ['auc', 'logloss'], thresholds: [Threshold.atLeast('accuracy', 0.9)] }),
      '[p/evaluate/gate] threshold on \'accuracy\', which the evaluation does not declare (it declares \'auc\', \'logloss\'); add \'accuracy\' to \'metrics\' or fix the name');
  });

  test('fails on a threshold that is not a finite number', () => {
    expectFailure((p) => evaluate(p, { thresholds: [Threshold.atLeast('auc', Number.NaN)] }),
      '[p/evaluate/gate] threshold on \'auc\' has a value that is not a finite number (NaN); give a number such as 0.8');
    expectFailure((p) => evaluate(p, { thresholds: [Threshold.atLeast('auc', 0.8), Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST, Infinity)] }),
      '[p/evaluate/gate] threshold on \'auc\' has a tolerance that is not a finite number (Infinity); give a number such as 0.8');
  });

  test('fails closed: no thresholds, or only baseline ones, never approve a first model', () => {
    expectFailure((p) => evaluate(p, { thresholds: [] }),
      '[p/evaluate/gate] \'thresholds\' is empty: a gate without thresholds never approves (fail closed); add at least one, e.g. Threshold.atLeast(\'auc\', 0.8)');
    expectFailure((p) => evaluate(p, { thresholds: [Threshold.noWorseThanBaseline('auc', ThresholdComparison.AT_LEAST)] }),
      '[p/evaluate/gate] every threshold is relative to the baseline: the first model (no baseline yet) would be approved unchecked; add an absolute one, e.g. Threshold.atLeast(\'auc\', 0.8)');
  });

  test('fails on a baseline path that leaves its claim', () => {
    expectFailure((p) => {
      const o = upstream(p);
      new Evaluate(p, 'evaluate', { model: o.model, testData: o.features, metrics: ['auc'], thresholds: [Threshold.atLeast('auc', 0.8)], baseline: Baseline.fromMetricsFile('registry', '../x/metrics.json') });
    }, '[p/evaluate/gate] baseline path \'../x/metrics.json\' must name a file inside the claim, without \'..\'');
  });

  test('fails on a split whose fractions do not add up to 1, or include 0', () => {
    expectFailure((p) => new FeatureEngineering(p, 'features', { datasets: { raw: upstream(p).data }, split: { train: 0.7, test: 0.2 } }),
      '[p/features] \'split\' fractions must add up to 1, got train 0.7, test 0.2 (sum 0.8999999999999999); e.g. { train: 0.8, test: 0.2 }');
    expectFailure((p) => new FeatureEngineering(p, 'features', { datasets: { raw: upstream(p).data }, split: { train: 1, test: 0 } }),
      '[p/features] \'split.train\' must be a fraction between 0 and 1 (exclusive), got 1 (train 1, test 0); give both sets some rows, e.g. { train: 0.8, test: 0.2 }');
  });

  test('fails on hyperparameter names Kubernetes cannot carry as env names, and on values that are not finite', () => {
    expectFailure((p) => new Train(p, 'train', { features: upstream(p).features, hyperparameters: { 'learning rate': 0.1 } }),
      '[p/train] hyperparameter name \'learning rate\' cannot be part of an env var name (MLOPS_HP_LEARNING RATE); use letters, digits, \'_\', \'-\' or \'.\'');
    expectFailure((p) => new Train(p, 'train', { features: upstream(p).features, hyperparameters: { lr: 0.1, LR: 0.2 } }),
      '[p/train] hyperparameters \'lr\' and \'LR\' would both be MLOPS_HP_LR; rename one');
    expectFailure((p) => new Train(p, 'train', { features: upstream(p).features, hyperparameters: { lr: Number.POSITIVE_INFINITY } }),
      '[p/train] hyperparameter \'lr\' is Infinity; give a finite number, a string or a boolean');
  });

  test('fails on an ingest URI with an unknown scheme, or credentials for another scheme', () => {
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.objectStore('ftp://files.example.com/churn.csv') }),
      '[p/ingest] \'source\' URI \'ftp://files.example.com/churn.csv\' has the unknown scheme \'ftp\'; DataSource.objectStore takes s3://bucket/prefix or gs://bucket/prefix (use DataSource.url for http(s)://)');
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.objectStore('gs://acme/churn', ObjectStoreCredentials.s3({ name: 'aws' })) }),
      '[p/ingest] \'source\' URI \'gs://acme/churn\' is gs:// but its credentials are for s3://; use ObjectStoreCredentials.gcs(...) for this URI');
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.url('s3://acme/churn') }),
      '[p/ingest] \'source\' URL \'s3://acme/churn\' has the unknown scheme \'s3\'; DataSource.url takes http:// or https:// (use DataSource.objectStore for s3:// and gs://)');
  });

  test('fails on a claim source with an invalid claim name', () => {
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.claim('Landing_Zone', 'churn/') }),
      '[p/ingest] \'source\' claim name \'Landing_Zone\' is invalid: use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit');
  });

  test('fails on a claim source whose path is absolute or leaves the claim', () => {
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.claim('landing-zone', '/data/churn') }),
      '[p/ingest] \'source\' path \'/data/churn\' on claim \'landing-zone\' must be relative to the claim, without \'..\'; e.g. DataSource.claim(\'landing-zone\', \'churn/2026-10/\')');
    expectFailure((p) => new Ingest(p, 'ingest', { source: DataSource.claim('landing-zone', 'churn/../../etc') }),
      '[p/ingest] \'source\' path \'churn/../../etc\' on claim \'landing-zone\' must be relative to the claim, without \'..\'; e.g. DataSource.claim(\'landing-zone\', \'churn/2026-10/\')');
  });

  test('fails on a database source without an image', () => {
    expectFailure((p) => new Ingest(p, 'ingest', { image: undefined, source: DataSource.database({ name: 'db' }, 'url') }),
      '[p/ingest] a database source needs \'image\': a container that reads MLOPS_SOURCE_URL and writes the rows to MLOPS_OUTPUT_DATASET (there is no built-in copy for databases)');
  });
});
