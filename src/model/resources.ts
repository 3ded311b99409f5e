import { Size, SizeRoundingBehavior } from 'cdk8s';
import type { CpuAmount, StepResources } from './plus-values';

/** What every step gets when neither it nor the pipeline says otherwise. */
const DEFAULT_RESOURCES: StepResources = {
  cpu: { request: { amount: '500m' }, limit: { amount: '1' } },
  memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) },
};

/** Which resource a value belongs to: cpu amounts and sizes are read differently. */
type Kind = 'cpu' | 'size';
type Value = CpuAmount | Size;

/**
 * A step's resources: its own per resource, else the pipeline's, else the defaults; a side
 * left out copies the other, so every pod has both requests and limits.
 */
export function resolveResources(own?: StepResources, pipeline?: StepResources): StepResources {
  const pick = <T>(key: keyof StepResources): { request?: T; limit?: T } | undefined => {
    const r = (own?.[key] ?? pipeline?.[key] ?? DEFAULT_RESOURCES[key]) as { request?: T; limit?: T } | undefined;
    return r && { request: r.request ?? r.limit, limit: r.limit ?? r.request };
  };
  return { cpu: pick<CpuAmount>('cpu'), memory: pick<Size>('memory'), ephemeralStorage: pick<Size>('ephemeralStorage') };
}

/** Kubernetes quantity strings for `resources.requests` and `resources.limits`. */
export interface Quantities {
  readonly requests: Record<string, string>;
  readonly limits: Record<string, string>;
}

/** The resources as quantity strings; call only after `checkResources` found nothing. */
export function toQuantities(resources: StepResources): Quantities {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const put = (name: string, kind: Kind, side: Record<string, string>, value?: Value) => {
    if (value) side[name] = quantity(kind, value);
  };
  put('cpu', 'cpu', requests, resources.cpu?.request);
  put('cpu', 'cpu', limits, resources.cpu?.limit);
  put('memory', 'size', requests, resources.memory?.request);
  put('memory', 'size', limits, resources.memory?.limit);
  put('ephemeral-storage', 'size', requests, resources.ephemeralStorage?.request);
  put('ephemeral-storage', 'size', limits, resources.ephemeralStorage?.limit);
  return { requests, limits };
}

/**
 * The most of each resource one container may ask for: more than any node offers, so a
 * larger value is a unit mistake (and would render in exponent notation no API server reads).
 * cpu in millicores, the sizes in MiB.
 */
const MAX_AMOUNT: Record<string, { readonly amount: number; readonly shown: string }> = {
  cpu: { amount: 1024 * 1000, shown: '1024 cores' },
  memory: { amount: 64 * 1024 * 1024, shown: '64Ti' },
  ephemeralStorage: { amount: 1024 * 1024 * 1024, shown: '1024Ti' },
};

/** Problems with the quantities, each naming the field and the fix. */
export function checkResources(resources: StepResources): string[] {
  const problems: string[] = [];
  const check = (field: string, kind: Kind, request?: Value, limit?: Value) => {
    const values: Array<[string, Value | undefined]> = [[`${field}.request`, request], [`${field}.limit`, limit]];
    const max = MAX_AMOUNT[field];
    for (const [name, value] of values) {
      const amount = value && amountOf(kind, value);
      if (value && (amount === undefined || !(amount >= 0))) {
        problems.push(`'resources.${name}' is not a valid quantity (${describe(kind, value)}); `
          + (kind === 'cpu' ? 'use Cpu.millis(n) or Cpu.units(n) with n >= 0' : 'use a whole, non-negative number of mebibytes, e.g. Size.mebibytes(512)'));
      } else if (amount !== undefined && amount > max.amount) {
        problems.push(`'resources.${name}' (${quantity(kind, value!)}) is more than ${max.shown}, more than any node offers; check the unit`);
      }
    }
    const r = request && amountOf(kind, request);
    const l = limit && amountOf(kind, limit);
    if (l === 0) {
      problems.push(`'resources.${field}.limit' is 0, which Kubernetes reads as no limit at all; set a positive limit, `
        + `or leave ${field} out for the defaults`);
    } else if (r !== undefined && l !== undefined && r > l) {
      problems.push(`'resources.${field}.request' (${quantity(kind, request!)}) is larger than its limit (${quantity(kind, limit!)}); raise the limit or lower the request`);
    }
  };
  check('cpu', 'cpu', resources.cpu?.request, resources.cpu?.limit);
  check('memory', 'size', resources.memory?.request, resources.memory?.limit);
  check('ephemeralStorage', 'size', resources.ephemeralStorage?.request, resources.ephemeralStorage?.limit);
  return problems;
}

function quantity(kind: Kind, value: Value): string {
  return kind === 'cpu' ? (value as CpuAmount).amount : sizeQuantity(value as Size);
}

/** A size of whole mebibytes as a Kubernetes quantity; whole gibibytes read better in review (16Gi, not 16384Mi). */
export function sizeQuantity(size: Size): string {
  const mib = size.toMebibytes();
  return mib % 1024 === 0 && mib > 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** Comparable magnitude (millicores or MiB), undefined when the value is not a quantity. */
function amountOf(kind: Kind, value: Value): number | undefined {
  if (kind === 'cpu') {
    const m = /^(\d+(?:\.\d+)?)(m?)$/.exec((value as CpuAmount).amount);
    if (!m) return undefined;
    const n = Number(m[1]) * (m[2] === 'm' ? 1 : 1000);
    return Number.isInteger(n) ? n : undefined;
  }
  return mebibytes(value as Size);
}

/** Whole mebibytes of `size`, undefined when it is not a whole, finite number of them. */
export function mebibytes(size: Size): number | undefined {
  try {
    const n = size.toMebibytes({ rounding: SizeRoundingBehavior.FAIL });
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function describe(kind: Kind, value: Value): string {
  if (kind === 'cpu') return `cpu '${(value as CpuAmount).amount}'`;
  try {
    return `${(value as Size).toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`;
  } catch {
    return 'a size that is not a number';
  }
}
