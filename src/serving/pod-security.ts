import type { StepSecurity } from '../model/container-spec';
import { isWholeNumberIn, shown } from '../model/values';

/** The "restricted" Pod Security Standard, as pipeline steps run by default. */
const DEFAULT_SECURITY: Required<StepSecurity> = { user: 1000, group: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true };

/**
 * The security profile of a serving workload's pods: the user's fields over the restricted
 * defaults, checked; throws `fail(message)` on a value the kubelet or API server would refuse.
 */
export function resolvePodSecurity(security: StepSecurity | undefined, fail: (message: string) => never): Required<StepSecurity> {
  const set = Object.fromEntries(Object.entries(security ?? {}).filter(([, v]) => v !== undefined)) as Partial<StepSecurity>;
  const resolved: Required<StepSecurity> = { ...DEFAULT_SECURITY, ...set };
  for (const [prop, value] of [['security.user', resolved.user], ['security.group', resolved.group]] as const) {
    if (!isWholeNumberIn(value, 0, 2147483647)) fail(`'${prop}' must be a whole number from 0 to 2147483647, got ${shown(value)}`);
  }
  if (resolved.user === 0 && resolved.runAsNonRoot) {
    fail('\'security.user\' is 0 (root) while runAsNonRoot is on: the kubelet would refuse to start the container; '
      + 'use a non-zero uid, or set security.runAsNonRoot to false to run as root on purpose');
  }
  return resolved;
}
