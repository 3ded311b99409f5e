import type { GraphProblem, PipelineGraph } from './graph';
import type { Pipeline } from './pipeline';
import { TRIGGER_RULES, TriggerRule } from './trigger-rule';

/**
 * What the coordinator could not run as written: exit handlers that wait or are waited for,
 * and trigger rules that are unknown or have nothing to apply to.
 */
export function checkControlFlow(pipeline: Pipeline, graph: PipelineGraph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const rules = TRIGGER_RULES.map((r) => `'${r}'`).join(', ');
  for (const step of graph.steps) {
    const upstream = graph.upstream(step);
    const rule = step.triggerRule;
    if (!TRIGGER_RULES.includes(rule)) {
      problems.push({ construct: step, message: `'trigger' must be one of ${rules} (TriggerRule), got '${rule}'` });
    }
    if (pipeline.isExitHandler(step)) {
      if (upstream.length > 0) {
        problems.push({
          construct: step,
          message: `exit handler '${step.stepName}' waits for ${upstream.map((u) => `'${u.stepName}'`).join(', ')}; an exit handler runs once every other `
            + 'step has finished, whatever happened, so it takes no inputs or after(): remove them',
        });
      }
      if (rule !== TriggerRule.ALL_SUCCEEDED) {
        problems.push({ construct: step, message: `exit handler '${step.stepName}' sets trigger '${rule}', but exit handlers always run last, whatever happened; drop 'trigger'` });
      }
      continue;
    }
    for (const up of upstream.filter((u) => pipeline.isExitHandler(u))) {
      problems.push({
        construct: step,
        message: `step '${step.stepName}' waits for exit handler '${up.stepName}', which runs after every other step; an exit handler cannot be `
          + `depended on: remove it from this step's inputs and after(), or make '${up.stepName}' an ordinary step`,
      });
    }
    if (rule !== TriggerRule.ALL_SUCCEEDED && TRIGGER_RULES.includes(rule) && upstream.length === 0) {
      problems.push({ construct: step, message: `'trigger' is '${rule}' but step '${step.stepName}' has no upstream steps to apply it to; add after() or inputs, or drop 'trigger'` });
    }
  }
  return problems;
}
