import { ContainerStep, NumberValue, Pipeline, StepVolume, StringValue } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';
import { image } from './fixtures';

describe('values and conditions that cannot run fail synthesis with a precise error and write nothing', () => {
  test('a condition on a value no upstream step produces', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue } });
      // A hand-made reference: train declares 'accuracy', not 'acuracy'.
      new ContainerStep(p, 'deploy', { when: new NumberValue(train, 'acuracy').atLeast(0.8) });
    }, `${VALIDATION}[p/deploy] 'when' (train.acuracy >= 0.8) compares value 'acuracy' of step 'train', which no step produces: 'train' declares 'accuracy'; `
      + 'compare a value the step declares in \'values\', or declare \'acuracy\' there');
  });

  test('an input value no upstream step produces', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train');
      new ContainerStep(p, 'deploy', { inputValues: { url: new StringValue(train, 'url') } });
    }, `${VALIDATION}[p/deploy] input value 'url' reads value 'url' of step 'train', which no step produces: 'train' declares no values; `
      + 'read a value the step declares in \'values\', or declare \'url\' there');
  });

  test('a value compared with a constant of another type (from JavaScript, where tsc cannot stop it)', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue } });
      const accuracy: any = train.values.accuracy;
      new ContainerStep(p, 'deploy', { when: accuracy.atLeast('0.8') });
    }, '[p/train] value \'accuracy\' is a number: atLeast() compares it with a number or another NumberValue, got string \'0.8\'; pass a number, e.g. atLeast(0.8)');
  });

  test('a value compared with a value of another type (from JavaScript)', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue, url: StringValue } });
      const url: any = train.values.url;
      new ContainerStep(p, 'deploy', { when: url.equals(train.values.accuracy) });
    }, '[p/train] value \'url\' is a string: equals() compares it with a string or another StringValue, got the number value p/train.accuracy; '
      + 'pass a string, e.g. equals(\'gbdt\')');
  });

  test('a value name Kubernetes cannot carry as an env name or annotation key', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train', { values: { 'model-url': StringValue } });
    }, '[p/train] value name \'model-url\' is invalid: use lowercase letters, digits and \'_\', starting with a letter and ending with a letter or digit, '
      + 'at most 63 characters (it becomes the env var MLOPS_VALUE_<NAME>, a file name in $MLOPS_VALUES and the pod annotation key in.mlops.cdk8s.io/<name>)');
  });

  test('an alias Kubernetes cannot carry as an annotation key (ending with \'_\')', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue } });
      new ContainerStep(p, 'deploy', { inputValues: { accuracy_: train.values.accuracy } });
    }, '[p/deploy] input value name \'accuracy_\' is invalid: use lowercase letters, digits and \'_\', starting with a letter and ending with a letter or digit, '
      + 'at most 63 characters (it becomes the env var MLOPS_VALUE_<NAME>, a file name in $MLOPS_VALUES and the pod annotation key in.mlops.cdk8s.io/<name>)');
  });

  test('values on a fanned-out step, whose copies would overwrite each other\'s', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train', { values: { accuracy: NumberValue }, fanOut: 3 });
    }, `${VALIDATION}[p/train] step 'train' declares values ('accuracy') and 'fanOut' 3: each copy would report its own and overwrite the others'; `
      + 'drop \'fanOut\', or write the results to an artifact and reduce them in a later step that declares the value');
  });

  test('$(MLOPS_VALUE_X) in args for a value the step does not read', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'deploy', { args: ['--url', '$(MLOPS_VALUE_URL)'] });
    }, `${VALIDATION}[p/deploy] 'args' uses $(MLOPS_VALUE_URL), but the step reads no input value 'url', so Kubernetes would pass the text on unexpanded; `
      + 'add it to \'inputValues\' (inputValues: { url: otherStep.values.url })');
  });

  test('a step with values that also sets its own service account or token', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train', { values: { accuracy: NumberValue }, serviceAccount: { name: 'trainer' }, automountServiceAccountToken: true });
    }, `${VALIDATION}[p/train] step 'train' declares values, so its pod runs as the pipeline's reporter service account 'p-reporter', whose token only the `
      + 'library\'s reporter container gets; it cannot also run as service account \'trainer\' (\'serviceAccount\', or the pipeline\'s defaults.serviceAccount): '
      + 'move the work that needs that account into a step without values, or write the result to an artifact\n  '
      + '[p/train] step \'train\' declares values, so its pod runs as the pipeline\'s reporter service account \'p-reporter\', whose token only the '
      + 'library\'s reporter container gets; \'automountServiceAccountToken\' would hand that token to the step\'s own container: '
      + 'drop it, or move the API calls into a step without values');
  });

  test('a volume over the values folder, and a container named like the reporter', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train', {
        values: { accuracy: NumberValue },
        containerName: 'report-values',
        volumes: [{ mountPath: '/mnt/values', volume: StepVolume.emptyDir() }],
      });
    }, `${VALIDATION}[p/train] 'containerName' 'report-values' is the name of a container cdk8s-mlops adds to the pod; choose another\n  `
      + '[p/train] volume mountPath \'/mnt/values\' overlaps /mnt/values, which the step\'s values need; mount it elsewhere, e.g. /data');
  });
});
