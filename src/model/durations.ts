import type { Duration } from 'cdk8s';
import { shown } from './values';

/**
 * The longest duration any setting takes: 365 days. Kubernetes stores these as int64 or
 * int32 seconds (`activeDeadlineSeconds` int64, `ttlSecondsAfterFinished` int32; both fit)
 * and the coordinator adds them to the clock in bash arithmetic; a deadline beyond a year
 * is a unit mistake, not a plan.
 */
export const MAX_DURATION_SECONDS = 365 * 24 * 3600;

/**
 * Why `duration` cannot be a Kubernetes seconds field (`activeDeadlineSeconds`, TTLs), or
 * undefined when it can. cdk8s's own conversion throws without naming the prop.
 */
export function wholeSecondsProblem(prop: string, duration: Duration, min = 1): string | undefined {
  if (typeof (duration as Partial<Duration> | undefined)?.toSeconds !== 'function') {
    return `'${prop}' must be a Duration such as Duration.minutes(30), got ${shown(duration)}`;
  }
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > MAX_DURATION_SECONDS) {
    return `'${prop}' must be a whole number of seconds from ${min} to ${MAX_DURATION_SECONDS} (365 days), got ${seconds}s`;
  }
  return undefined;
}
