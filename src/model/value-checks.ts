import { BatchStep } from './batch-step';
import type { GraphProblem, PipelineGraph } from './graph';
import type { Step } from './step';
import type { StepValue } from './step-value';

/** `$(MLOPS_VALUE_X)` in a command or args: Kubernetes expands it from the container's env. */
const VALUE_REFERENCE = /\$\(MLOPS_VALUE_([A-Za-z0-9_]+)\)/g;

/**
 * What the coordinator could not hand over or decide: a value read or compared that its
 * producer does not declare, values of a fanned-out step (whose copies would overwrite each
 * other's), and `$(MLOPS_VALUE_X)` references to no input value (Kubernetes would pass the
 * text on unexpanded).
 */
export function checkValues(graph: PipelineGraph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const step of graph.steps) {
    const condition = step.condition;
    for (const value of condition?.values ?? []) {
      const problem = undeclared(value);
      if (problem) {
        problems.push({ construct: step, message: `'when' (${condition}) compares ${problem}; compare a value the step declares in 'values', or declare '${value.name}' there` });
      }
    }
    for (const [alias, value] of Object.entries(step.inputValues)) {
      const problem = undeclared(value);
      if (problem) problems.push({ construct: step, message: `input value '${alias}' reads ${problem}; read a value the step declares in 'values', or declare '${value.name}' there` });
    }
    if (BatchStep.isBatchStep(step)) problems.push(...specProblems(step));
  }
  return problems;
}

/** Why `value` cannot be read: its producer does not declare it (a hand-made value). */
function undeclared(value: StepValue): string | undefined {
  const producer: Step = value.producer;
  if (producer.values[value.name] === value) return undefined;
  const declared = Object.keys(producer.values);
  return `value '${value.name}' of step '${producer.stepName}', which no step produces: '${producer.stepName}' declares `
    + `${declared.length === 0 ? 'no values' : declared.map((n) => `'${n}'`).join(', ')}`;
}

function specProblems(step: BatchStep): GraphProblem[] {
  const spec = step.spec();
  const problems: string[] = [];
  const names = Object.keys(spec.values);
  if (names.length > 0 && spec.fanOut > 1) {
    problems.push(`step '${step.stepName}' declares values (${names.map((n) => `'${n}'`).join(', ')}) and 'fanOut' ${spec.fanOut}: each copy would `
      + 'report its own and overwrite the others\'; drop \'fanOut\', or write the results to an artifact and reduce them in a later step that declares the value');
  }
  const aliases = new Set(Object.keys(spec.inputValues).map((a) => a.toUpperCase()));
  for (const [prop, list] of [['command', spec.command], ['args', spec.args]] as const) {
    for (const arg of list ?? []) {
      for (const [ref, name] of String(arg).matchAll(VALUE_REFERENCE)) {
        if (aliases.has(name)) continue;
        problems.push(`'${prop}' uses ${ref}, but the step reads no input value '${name.toLowerCase()}', so Kubernetes would pass the text on unexpanded; `
          + `add it to 'inputValues' (inputValues: { ${name.toLowerCase()}: otherStep.values.${name.toLowerCase()} })`);
      }
    }
  }
  return problems.map((message) => ({ construct: step, message }));
}
