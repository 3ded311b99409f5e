import type { Step } from './step';
import { shown } from './values';

/**
 * The rule of value names and of the aliases a step reads them under: each becomes the env
 * var suffix `MLOPS_VALUE_<NAME>`, a file name in `$MLOPS_VALUES` and, as an alias, the
 * name part of the pod annotation `in.mlops.cdk8s.io/<alias>` (at most 63 characters,
 * starting and ending with a letter or digit: k8s.io/apimachinery validation.IsQualifiedName).
 */
const VALUE_NAME = /^[a-z](?:[a-z0-9_]{0,61}[a-z0-9])?$/;

/** Why `name` cannot name a value or an alias, or undefined when it can. */
export function valueNameProblem(name: string): string | undefined {
  if (typeof name === 'string' && VALUE_NAME.test(name)) return undefined;
  return 'use lowercase letters, digits and \'_\', starting with a letter and ending with a letter or digit, at most 63 characters '
    + '(it becomes the env var MLOPS_VALUE_<NAME>, a file name in $MLOPS_VALUES and the pod annotation key in.mlops.cdk8s.io/<name>)';
}

/** What a value carries, as its producer's reporter checks it and the coordinator compares it. */
export type ValueType = 'string' | 'number' | 'boolean' | 'json';

/** The operators of a condition, as plan column 6 writes them. */
export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A small typed output of a step (a URL, a count, a decision): what its container writes to
 * the file `$MLOPS_VALUES/<name>`. Downstream steps read it as the env var
 * `MLOPS_VALUE_<ALIAS>` (`inputValues`) or decide on it (`when`); either orders them after
 * the producer, as reading an artifact does. All values of a step together take at most
 * 4096 bytes as JSON: larger results belong in an artifact.
 *
 * The subclasses (`StringValue`, `NumberValue`, `BooleanValue`, `StructuredValue`) exist so that
 * a step can ask for one type and the compiler rejects another, as with artifacts.
 */
export abstract class StepValue {
  /** Whether `x` is a step value, also across duplicate copies of this library. */
  public static isStepValue(x: unknown): x is StepValue {
    return x !== null && typeof x === 'object' && VALUE_SYMBOL in x;
  }

  /**
   * @param producer the step that writes this value
   * @param name the value's name on that step, unique per step
   */
  public constructor(public readonly producer: Step, public readonly name: string) {
    Object.defineProperty(this, VALUE_SYMBOL, { value: true });
  }

  /** What the value carries; each subclass narrows it to a literal type. */
  public abstract get type(): ValueType;

  /** `'<step path>.<value>'`, for messages. */
  public toString(): string {
    return `${this.producer.node.path}.${this.name}`;
  }

  /**
   * A condition comparing this value with `other`, after checking that `other` has this
   * value's type: the types stop TypeScript callers, this stops JavaScript ones.
   */
  protected compare(method: string, op: ComparisonOperator, other: unknown, example: string): Condition {
    const constant = typeof other === this.type && (typeof other !== 'number' || Number.isFinite(other));
    if (!constant && !(StepValue.isStepValue(other) && other.type === this.type)) {
      const got = StepValue.isStepValue(other) ? `the ${other.type} value ${other}` : shown(other);
      throw new Error(`[${this.producer.node.path}] value '${this.name}' is a ${this.type}: ${method}() compares it with a ${this.type} `
        + `or another ${this.constructor.name}, got ${got}; pass a ${this.type}, e.g. ${method}(${example})`);
    }
    return new Condition(this, op, other as StepValue | string | number | boolean);
  }
}

const VALUE_SYMBOL = Symbol.for('cdk8s-mlops.StepValue');

/** Text, e.g. a URL or a model version. The file's content as it is, less one trailing newline. */
export class StringValue extends StepValue {
  public get type(): 'string' {
    return 'string';
  }

  /** True when the value is `other` (a string or another `StringValue`). */
  public equals(other: string | StringValue): Condition {
    return this.compare('equals', '==', other, '\'gbdt\'');
  }

  /** True when the value is not `other`. */
  public notEquals(other: string | StringValue): Condition {
    return this.compare('notEquals', '!=', other, '\'gbdt\'');
  }
}

/** A number, e.g. a metric or a row count: the file holds one JSON number (`0.93`, `1200`). */
export class NumberValue extends StepValue {
  public get type(): 'number' {
    return 'number';
  }

  /** True when the value is at least `other`. */
  public atLeast(other: number | NumberValue): Condition {
    return this.compare('atLeast', '>=', other, '0.8');
  }

  /** True when the value is at most `other`. */
  public atMost(other: number | NumberValue): Condition {
    return this.compare('atMost', '<=', other, '0.8');
  }

  /** True when the value is greater than `other`. */
  public greaterThan(other: number | NumberValue): Condition {
    return this.compare('greaterThan', '>', other, '0.8');
  }

  /** True when the value is less than `other`. */
  public lessThan(other: number | NumberValue): Condition {
    return this.compare('lessThan', '<', other, '0.8');
  }

  /** True when the value equals `other`. */
  public equals(other: number | NumberValue): Condition {
    return this.compare('equals', '==', other, '0');
  }

  /** True when the value differs from `other`. */
  public notEquals(other: number | NumberValue): Condition {
    return this.compare('notEquals', '!=', other, '0');
  }
}

/** A decision: the file holds `true` or `false`. */
export class BooleanValue extends StepValue {
  public get type(): 'boolean' {
    return 'boolean';
  }

  /** True when the value is `true`. */
  public isTrue(): Condition {
    return this.compare('equals', '==', true, 'true');
  }

  /** True when the value is `false`. */
  public isFalse(): Condition {
    return this.compare('equals', '==', false, 'true');
  }

  /** True when the value equals `other` (a boolean or another `BooleanValue`). */
  public equals(other: boolean | BooleanValue): Condition {
    return this.compare('equals', '==', other, 'true');
  }
}

/**
 * Small structured data: the file holds one JSON document. A consumer receives it as JSON
 * text; conditions cannot compare it (declare the field a decision needs as its own value).
 */
export class StructuredValue extends StepValue {
  public get type(): 'json' {
    return 'json';
  }
}

/** The class of a value type, used to declare values: `values: { accuracy: NumberValue }`. */
export type StepValueType<V extends StepValue = StepValue> = new (producer: Step, name: string) => V;

/** The values a step exposes for the types it declared. */
export type ValuesOf<V extends Record<string, StepValueType>> = { readonly [K in keyof V]: InstanceType<V[K]> };

/**
 * A comparison the coordinator evaluates at run time, once the step's trigger rule would
 * release it: true releases the step, false skips it with the comparison as the reason (a
 * result, not a failure). Made by the comparison methods of values, e.g.
 * `evaluate.values.accuracy.atLeast(0.8)`; passed as a step's `when`.
 */
export class Condition {
  /** @internal made by the comparison methods of `StepValue`s */
  public constructor(
    /** The value compared. */
    public readonly value: StepValue,
    /** How it is compared. */
    public readonly op: ComparisonOperator,
    /** What it is compared with: a constant of the value's type, or another value of that type. */
    public readonly other: StepValue | string | number | boolean,
  ) {}

  /** The values the condition reads; their producers must finish before it can be decided. */
  public get values(): StepValue[] {
    return StepValue.isStepValue(this.other) ? [this.value, this.other] : [this.value];
  }

  /** Plan column 6 (docs/coordinator-contract.md), given the producers' step names. */
  public toPlanJson(): string {
    const operand = (v: StepValue | string | number | boolean) =>
      (StepValue.isStepValue(v) ? { step: v.producer.stepName, value: v.name } : { const: v });
    return JSON.stringify({ left: operand(this.value), op: this.op, right: operand(this.other) });
  }

  /** E.g. `evaluate.accuracy >= 0.8`, for messages and pictures. */
  public toString(): string {
    const side = (v: StepValue | string | number | boolean) => (StepValue.isStepValue(v) ? `${v.producer.stepName}.${v.name}` : JSON.stringify(v));
    return `${side(this.value)} ${this.op} ${side(this.other)}`;
  }
}
