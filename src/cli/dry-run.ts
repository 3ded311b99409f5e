/**
 * The run-time half of `cdk8s-mlops verify`: runs each pipeline's coordinator script, as
 * written in the YAML, against the simulated cluster, with every step succeeding. It proves
 * the script and its RBAC carry the pipeline to completion in dependency order, which no
 * schema can.
 */
import { spawnSync } from 'child_process';
import { dryRunRefusals } from './dry-run-safety';
import type { ManifestObject } from '../verify/simulator';
import { simulate } from '../verify/simulator';
import type { Problem } from '../verify';
import type { SimulateHook, SimulationReport } from './verify';

/** How long each simulated step runs; only ratios to the poll interval matter. */
const STEP_SECONDS = 60;

/** The tools the coordinator script needs, as on the registry.k8s.io/kubectl image. */
const TOOLS = ['bash', 'jq'];

export const dryRun: SimulateHook = async ({ objects, plans }) => {
  const missing = TOOLS.filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    return {
      problems: [problem('cluster', 'warning', 'simulation-unavailable',
        `the run-time simulation needs ${missing.join(' and ')} on PATH, as the coordinator image has; it was not run`,
        `install ${missing.join(' and ')} (e.g. apt-get install ${missing.join(' ')}), or pass --no-simulate`)],
    };
  }
  const problems: Problem[] = [];
  const lines: string[] = [];
  for (const plan of plans) {
    if (!plan.coordinator) continue;
    const refusals = dryRunRefusals(objects, plan);
    if (refusals.length > 0) {
      problems.push(...refusals);
      lines.push(`dry run of ${plan.pipeline}: not run, its coordinator is not the one cdk8s-mlops generates (see the errors above)`);
      continue;
    }
    const own = (objects as ManifestObject[]).filter((o) => o?.metadata?.labels?.['mlops.cdk8s.io/pipeline'] === plan.pipeline);
    const result = await simulate(own, { pipeline: plan.pipeline, defaultDuration: STEP_SECONDS, namespace: plan.namespace });
    const steps = Object.values(result.steps);
    const completed = steps.filter((s) => s.outcome === 'complete').length;
    if (result.ok && result.exitCode === 0 && completed === steps.length) {
      const perPoll = Math.max(...result.polls.map((p) => p.list));
      lines.push(`dry run of ${plan.pipeline}: all ${steps.length} steps completed in ${result.makespan}s simulated `
        + `(${STEP_SECONDS}s per step, critical path ${plan.criticalPath.length} steps); at most ${result.maxConcurrent} at once; `
        + `${perPoll} list call per poll`);
      continue;
    }
    const why = result.errors.length > 0 ? result.errors.join('; ') : `the coordinator exited ${result.exitCode ?? 'never'}`;
    problems.push(problem(`Job/${plan.namespace}/${plan.coordinator}`, 'error', 'simulation-failed',
      `dry run of pipeline '${plan.pipeline}' did not complete (${completed} of ${steps.length} steps): ${why}`,
      'read the coordinator log below; regenerate the YAML with cdk8s synth rather than editing it by hand'));
    lines.push(`coordinator log of ${plan.pipeline}:\n${result.coordinator.stdout}${result.coordinator.stderr}`);
  }
  const report: SimulationReport = { problems, text: lines.join('\n') };
  return report;
};

function problem(object: string, severity: Problem['severity'], rule: string, message: string, fix: string): Problem {
  return { object, path: '', severity, rule, message, fix };
}
