import { Testing } from 'cdk8s';
import { BooleanValue, Condition, ContainerStep, StructuredValue, NumberValue, Pipeline, StringValue } from '../../src';

// These lines are checked by `tsc` in `npm test`: each @ts-expect-error must really be an
// error, or the type gate fails ("Unused '@ts-expect-error' directive").
function typedValues() {
  const p = new Pipeline(Testing.app(), 'p', { defaults: { image: 'busybox:1.36' } });
  const train = new ContainerStep(p, 'train', { values: { accuracy: NumberValue, url: StringValue, promoted: BooleanValue, report: StructuredValue } });
  const expectsText = (v: StringValue) => v;
  const expectsNumber = (v: NumberValue) => v;

  expectsText(train.values.url);
  expectsNumber(train.values.accuracy);
  // @ts-expect-error a NumberValue where a StringValue is expected
  expectsText(train.values.accuracy);
  // @ts-expect-error a StringValue is not a NumberValue, even by assignment
  const forged: NumberValue = train.values.url;
  void forged;
  // @ts-expect-error 'acuracy' is not a declared value of train
  void train.values.acuracy;
  // @ts-expect-error a step without values exposes none
  void new ContainerStep(p, 'noop').values.anything;

  // Naming the input value types makes inputValues as strict as typed artifacts.
  new ContainerStep(p, 'deploy', { inputValueKinds: { url: StringValue }, inputValues: { url: train.values.url } });
  // @ts-expect-error a NumberValue wired where the step declared a StringValue
  expect(() => new ContainerStep(p, 'deploy2', { inputValueKinds: { url: StringValue }, inputValues: { url: train.values.accuracy } }))
    .toThrow('[p/deploy2] input value \'url\' must be a StringValue, got the number value p/train.accuracy; wire a value of that type or change \'inputValueKinds\'');
  // @ts-expect-error a declared input value left unwired
  expect(() => new ContainerStep(p, 'deploy3', { inputValueKinds: { url: StringValue }, inputValues: {} }))
    .toThrow('[p/deploy3] input value \'url\' is declared in \'inputValueKinds\' but not wired; pass it in \'inputValues\'');
  // @ts-expect-error inputValues take values, not strings
  expect(() => new ContainerStep(p, 'deploy4', { inputValues: { url: 'https://x' } }))
    .toThrow('[p/deploy4] input value \'url\' must be a value such as otherStep.values.accuracy, got https://x');

  // Conditions compare a value with a constant or a value of its own type.
  const conditions: Condition[] = [
    train.values.accuracy.atLeast(0.8),
    train.values.accuracy.lessThan(train.values.accuracy),
    train.values.url.equals('https://models/churn'),
    train.values.promoted.isTrue(),
    train.values.promoted.equals(false),
  ];
  // @ts-expect-error a number compared with a string constant
  expect(() => train.values.accuracy.atLeast('0.8')).toThrow();
  // @ts-expect-error a number compared with a StringValue
  expect(() => train.values.accuracy.atMost(train.values.url)).toThrow();
  // @ts-expect-error a string compared with a number
  expect(() => train.values.url.equals(3)).toThrow();
  // @ts-expect-error a boolean compared with a string
  expect(() => train.values.promoted.equals('true')).toThrow();
  // @ts-expect-error JSON values are not compared: expose the field a decision needs as its own value
  void train.values.report.equals;
  // @ts-expect-error 'when' takes a condition, not a value
  expect(() => new ContainerStep(p, 'gated', { when: train.values.promoted })).toThrow();
  return conditions.map(String);
}

describe('values and conditions are typed at compile time, and checked at run time for JavaScript callers', () => {
  test('the typed uses build, and conditions read as their plan shows them', () => {
    expect(typedValues()).toEqual([
      'train.accuracy >= 0.8',
      'train.accuracy < train.accuracy',
      'train.url == "https://models/churn"',
      'train.promoted == true',
      'train.promoted == false',
    ]);
  });
});
