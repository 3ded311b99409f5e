import { shown } from '../model/values';

/** A parameter's value in a trial: what `MLOPS_PARAM_<NAME>` holds. */
export type ParamValue = string | number | boolean;

/** Parameter names: they become `MLOPS_PARAM_<NAME>` variables. */
const PARAM_NAME = /^[a-z][a-z0-9_]*$/;

/** Significant digits kept of a sampled number: the YAML stays readable and stable across platforms. */
const DIGITS = 6;

/** Draws before a random search gives up finding a point it has not drawn yet. */
const MAX_DRAWS_PER_TRIAL = 100;

/**
 * How a random search draws one parameter. Choose with the static factories, as
 * `SearchSpace.random({ learning_rate: Param.logUniform(1e-4, 1e-1), depth: Param.choice([4, 6, 8]) }, ...)`.
 */
export class Param {
  /** A number drawn uniformly from `[min, max)`. */
  public static uniform(min: number, max: number): Param {
    return new Param(`uniform(${min}, ${max})`, rangeProblem(min, max, false), (r) => round(min + r() * (max - min)));
  }

  /** A number whose logarithm is uniform on `[log min, log max)`: for learning rates and regularization. */
  public static logUniform(min: number, max: number): Param {
    return new Param(`logUniform(${min}, ${max})`, rangeProblem(min, max, true), (r) => round(Math.exp(Math.log(min) + r() * (Math.log(max) - Math.log(min)))));
  }

  /** A whole number from `min` to `max`, both included. */
  public static integer(min: number, max: number): Param {
    const problem = rangeProblem(min, max, false) ?? (Number.isInteger(min) && Number.isInteger(max) ? undefined : `bounds must be whole numbers, got ${min} and ${max}`);
    return new Param(`integer(${min}, ${max})`, problem, (r) => min + Math.floor(r() * (max - min + 1)));
  }

  /** One of `values`, each as likely. */
  public static choice(values: readonly ParamValue[]): Param {
    return new Param(`choice(${values.length} values)`, valuesProblem(values), (r) => values[Math.floor(r() * values.length)]);
  }

  private constructor(
    /** How messages show it. */
    public readonly description: string,
    /** What is wrong with its arguments, if anything. */
    public readonly problem: string | undefined,
    private readonly draw: (random: () => number) => ParamValue,
  ) {}

  /** @internal One value, from a generator of numbers in [0, 1). */
  public _sample(random: () => number): ParamValue {
    return this.draw(random);
  }
}

/** Options of a random search. */
export interface RandomSearchOptions {
  /** How many trials to draw. */
  readonly trials: number;
  /**
   * The seed of the generator: the same seed gives the same trials, so the same YAML.
   * @default 0
   */
  readonly seed?: number;
}

/**
 * The trials of a sweep: every combination of a grid, or a seeded random sample. Each
 * trial is an object of parameter values, written into its Job as `MLOPS_PARAM_<NAME>`
 * (and the whole object as `MLOPS_ITEM`). Drawn at synthesis, so a reviewer reads every
 * trial in the YAML and the same program writes the same YAML.
 */
export class SearchSpace {
  /**
   * Every combination of the values given, in order: the first parameter varies slowest.
   *
   * @example SearchSpace.grid({ learning_rate: [0.1, 0.01], depth: [4, 8] })  // 4 trials
   */
  public static grid(values: Readonly<Record<string, readonly ParamValue[]>>): SearchSpace {
    const names = Object.keys(values ?? {});
    const problem = names.length === 0
      ? "'space' is an empty grid: it has no parameters; give at least one with its values, e.g. SearchSpace.grid({ learning_rate: [0.1, 0.01] })"
      : names.map((n) => nameProblem(n) ?? emptyGridProblem(n, values[n]) ?? prefixed(n, valuesProblem(values[n]))).find((p) => p !== undefined);
    const trials = problem ? [] : names.reduce<Array<Record<string, ParamValue>>>(
      (combos, name) => combos.flatMap((c) => values[name].map((v) => ({ ...c, [name]: v }))), [{}]);
    return new SearchSpace(`a grid of ${trials.length} combinations`, problem, trials);
  }

  /**
   * `trials` points drawn at random, each parameter from its distribution, no point twice.
   * The generator is seeded (mulberry32): the same seed gives the same trials.
   *
   * @example SearchSpace.random({ learning_rate: Param.logUniform(1e-4, 1e-1) }, { trials: 12, seed: 7 })
   */
  public static random(params: Readonly<Record<string, Param>>, options: RandomSearchOptions): SearchSpace {
    const names = Object.keys(params ?? {});
    const trials = options?.trials;
    const seed = options?.seed ?? 0;
    const problem = names.length === 0
      ? "'space' is a random search with no parameters; give at least one, e.g. { learning_rate: Param.logUniform(1e-4, 1e-1) }"
      : names.map((n) => nameProblem(n) ?? prefixed(n, params[n]?.problem)).find((p) => p !== undefined)
        ?? (typeof trials === 'number' && Number.isInteger(trials) && trials >= 1 ? undefined : `'trials' must be a whole number of at least 1, got ${shown(trials)}`)
        ?? (Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32 ? undefined : `'seed' must be a whole number from 0 to 4294967295, got ${shown(seed)}`);
    if (problem) return new SearchSpace('a random search', problem, []);
    const random = mulberry32(seed);
    const seen = new Set<string>();
    const points: Array<Record<string, ParamValue>> = [];
    for (let draws = 0; points.length < trials && draws < trials * MAX_DRAWS_PER_TRIAL; draws++) {
      const point = Object.fromEntries(names.map((n) => [n, params[n]._sample(random)]));
      const key = JSON.stringify(point);
      if (!seen.has(key)) {
        seen.add(key);
        points.push(point);
      }
    }
    const short = points.length < trials
      ? `'space' gave only ${points.length} distinct points in ${trials * MAX_DRAWS_PER_TRIAL} draws, fewer than the ${trials} trials asked; `
        + 'widen the parameters\' ranges or ask for fewer trials'
      : undefined;
    return new SearchSpace(`a random search of ${trials} trials (seed ${seed})`, short, points);
  }

  private constructor(
    /** How messages show it. */
    public readonly description: string,
    /** What is wrong with it, if anything; the sweep reports it with its path. */
    public readonly problem: string | undefined,
    /** The trials' parameters, in trial order. */
    public readonly trials: ReadonlyArray<Readonly<Record<string, ParamValue>>>,
  ) {}
}

function nameProblem(name: string): string | undefined {
  return PARAM_NAME.test(name) ? undefined
    : `parameter name '${name}' is invalid: use lowercase letters, digits and '_', starting with a letter (it becomes MLOPS_PARAM_<NAME>)`;
}

function emptyGridProblem(name: string, values: readonly ParamValue[] | undefined): string | undefined {
  return Array.isArray(values) && values.length > 0 ? undefined
    : `'space' is an empty grid: parameter '${name}' has no values; give it at least one, e.g. { ${name}: [0.1, 0.01] }`;
}

function prefixed(name: string, problem: string | undefined): string | undefined {
  return problem && `parameter '${name}': ${problem}`;
}

function valuesProblem(values: readonly unknown[]): string | undefined {
  if (!Array.isArray(values) || values.length === 0) return `needs at least one value, got ${shown(values)}`;
  const bad = values.find((v) => !(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))));
  if (bad !== undefined) return `values must be strings, finite numbers or booleans, got ${shown(bad)}`;
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice !== undefined) return `value ${JSON.stringify(twice)} is listed twice; list each once`;
  return undefined;
}

function rangeProblem(min: number, max: number, positive: boolean): string | undefined {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min < max)) return `needs finite bounds with min < max, got ${min} and ${max}`;
  if (positive && min <= 0) return `a log-uniform range needs min > 0, got ${min}`;
  return undefined;
}

function round(x: number): number {
  return Number(x.toPrecision(DIGITS));
}

/** A small seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same sequence, on every platform. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
