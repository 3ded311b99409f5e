import { Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu } from 'cdk8s-plus-27';

/** What every step gets when neither it nor the pipeline says otherwise. */
const DEFAULT_RESOURCES: ContainerResources = {
  cpu: { request: Cpu.millis(500), limit: Cpu.units(1) },
  memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) },
};

/**
 * A step's resources: its own per resource, else the pipeline's, else the defaults; a side
 * left out copies the other, so every pod has both requests and limits.
 */
export function resolveResources(own?: ContainerResources, pipeline?: ContainerResources): ContainerResources {
  const pick = <T>(key: keyof ContainerResources): { request?: T; limit?: T } | undefined => {
    const r = (own?.[key] ?? pipeline?.[key] ?? DEFAULT_RESOURCES[key]) as { request?: T; limit?: T } | undefined;
    return r && { request: r.request ?? r.limit, limit: r.limit ?? r.request };
  };
  return { cpu: pick<Cpu>('cpu'), memory: pick<Size>('memory'), ephemeralStorage: pick<Size>('ephemeralStorage') };
}

/** Kubernetes quantity strings for `resources.requests` and `resources.limits`. */
export interface Quantities {
  readonly requests: Record<string, string>;
  readonly limits: Record<string, string>;
}

/** The resources as quantity strings; call only after `checkResources` found nothing. */
export function toQuantities(resources: ContainerResources): Quantities {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  const put = (name: string, side: Record<string, string>, value?: Cpu | Size) => {
    if (value) side[name] = quantity(value);
  };
  put('cpu', requests, resources.cpu?.request);
  put('cpu', limits, resources.cpu?.limit);
  put('memory', requests, resources.memory?.request);
  put('memory', limits, resources.memory?.limit);
  put('ephemeral-storage', requests, resources.ephemeralStorage?.request);
  put('ephemeral-storage', limits, resources.ephemeralStorage?.limit);
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
export function checkResources(resources: ContainerResources): string[] {
  const problems: string[] = [];
  const check = (field: string, request?: Cpu | Size, limit?: Cpu | Size) => {
    const values: Array<[string, Cpu | Size | undefined]> = [[`${field}.request`, request], [`${field}.limit`, limit]];
    const max = MAX_AMOUNT[field];
    for (const [name, value] of values) {
      const amount = value && amountOf(value);
      if (value && (amount === undefined || !(amount >= 0))) {
        problems.push(`'resources.${name}' is not a valid quantity (${describe(value)}); `
          + (value instanceof Cpu ? 'use Cpu.millis(n) or Cpu.units(n) with n >= 0' : 'use a whole, non-negative number of mebibytes, e.g. Size.mebibytes(512)'));
      } else if (amount !== undefined && amount > max.amount) {
        problems.push(`'resources.${name}' (${quantity(value!)}) is more than ${max.shown}, more than any node offers; check the unit`);
      }
    }
    const r = request && amountOf(request);
    const l = limit && amountOf(limit);
    if (l === 0) {
      problems.push(`'resources.${field}.limit' is 0, which Kubernetes reads as no limit at all; set a positive limit, `
        + `or leave ${field} out for the defaults`);
    } else if (r !== undefined && l !== undefined && r > l) {
      problems.push(`'resources.${field}.request' (${quantity(request!)}) is larger than its limit (${quantity(limit!)}); raise the limit or lower the request`);
    }
  };
  check('cpu', resources.cpu?.request, resources.cpu?.limit);
  check('memory', resources.memory?.request, resources.memory?.limit);
  check('ephemeralStorage', resources.ephemeralStorage?.request, resources.ephemeralStorage?.limit);
  return problems;
}

function quantity(value: Cpu | Size): string {
  return value instanceof Cpu ? value.amount : sizeQuantity(value);
}

/** A size of whole mebibytes as a Kubernetes quantity; whole gibibytes read better in review (16Gi, not 16384Mi). */
export function sizeQuantity(size: Size): string {
  const mib = size.toMebibytes();
  return mib % 1024 === 0 && mib > 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** Comparable magnitude (millicores or MiB), undefined when the value is not a quantity. */
function amountOf(value: Cpu | Size): number | undefined {
  if (value instanceof Cpu) {
    const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(value.amount);
    if (!m) return undefined;
    const n = Number(m[1]) * (m[2] === 'm' ? 1 : 1000);
    return Number.isInteger(n) ? n : undefined;
  }
  return mebibytes(value);
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

function describe(value: Cpu | Size): string {
  if (value instanceof Cpu) return `cpu '${value.amount}'`;
  try {
    return `${value.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`;
  } catch {
    return 'a size that is not a number';
  }
}
