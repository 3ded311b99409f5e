import type { Duration } from 'cdk8s';
import { BatchStep } from './batch-step';
import type { Step } from './step';

/**
 * Steps whose own `timeout` is longer than the run deadline: the deadline stops them first,
 * so the timeout the user wrote never applies. Legal, so a warning, not an error.
 */
export function deadlineWarnings(runDeadline: Duration, steps: readonly Step[]): string[] {
  const deadline = runDeadline.toSeconds();
  const warnings: string[] = [];
  for (const step of steps) {
    if (!BatchStep.isBatchStep(step)) continue;
    const timeout = step.spec().timeout?.toSeconds();
    if (timeout !== undefined && timeout > deadline) {
      warnings.push(`step '${step.stepName}' has a timeout of ${timeout}s, longer than the run deadline of ${deadline}s, `
        + 'which stops it first; raise runDeadline or lower the timeout');
    }
  }
  return warnings;
}
