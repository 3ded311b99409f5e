import type { Duration } from 'cdk8s';

/**
 * Why `duration` cannot be a Kubernetes seconds field (`activeDeadlineSeconds`, TTLs), or
 * undefined when it can. cdk8s's own conversion throws without naming the prop.
 */
export function wholeSecondsProblem(prop: string, duration: Duration, min = 1): string | undefined {
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min) {
    return `'${prop}' must be a whole number of seconds of at least ${min}, got ${seconds}s`;
  }
  return undefined;
}
