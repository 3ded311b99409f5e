import type { Duration } from 'cdk8s';
import type { GraphProblem, PipelineGraph } from '../../model/graph';
import { cronJobNameProblem } from '../../model/cron';
import { MAX_NAME_LENGTH } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import { stepJobName } from './plan';
import { PRUNE_STEP } from './prune-runs';

/** The shortest TTL that outlives a coordinator restart, whatever the poll interval. */
const MIN_TTL_SECONDS = 60;
const MIN_TTL_POLLS = 12;

/** What a hash suffix adds to a name; only the length matters here. */
const SAMPLE_HASH = '12345678';

/**
 * Limits of the plain backend's rendering: names it derives that Kubernetes would refuse,
 * and a TTL that would delete a Job before the coordinator has seen it finish.
 */
export function checkPlainLimits(pipeline: Pipeline, graph: PipelineGraph, pollInterval: Duration): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const pipelineName = pipeline.pipelineName;
  for (const step of graph.steps) {
    const name = stepJobName(pipelineName, step.stepName, SAMPLE_HASH);
    if (name.length > MAX_NAME_LENGTH) {
      problems.push({
        construct: step,
        message: `the Job name '${name}' derived from pipeline '${pipelineName}' and step '${step.stepName}' has `
          + `${name.length} characters, more than ${MAX_NAME_LENGTH}; shorten the pipeline or step id by ${name.length - MAX_NAME_LENGTH}`,
      });
    }
  }
  const coordinatorName = `${pipelineName}-coordinator-${SAMPLE_HASH}`;
  // A run's coordinator Job is named by its CronJob (`<pipeline>-<unix minutes>`) instead.
  if (!pipeline.runs && coordinatorName.length > MAX_NAME_LENGTH) {
    problems.push({
      construct: pipeline,
      message: `the coordinator Job name '${coordinatorName}' has ${coordinatorName.length} characters, more than ${MAX_NAME_LENGTH}; `
        + `shorten the pipeline id by ${coordinatorName.length - MAX_NAME_LENGTH}`,
    });
  }
  const cronJobName = pipeline.runs && cronJobNameProblem(pipelineName);
  if (cronJobName) problems.push({ construct: pipeline, message: `the pipeline id names its CronJob: ${cronJobName}` });
  if (pipeline.runs?.keepArtifactsOfRuns !== undefined) {
    const clash = graph.steps.find((s) => s.stepName === PRUNE_STEP);
    if (clash) {
      problems.push({
        construct: clash,
        message: `step name '${PRUNE_STEP}' is taken by the step that deletes old runs' folders ('keepArtifactsOfRuns'); rename the step`,
      });
    }
    const pruneJob = stepJobName(pipelineName, PRUNE_STEP, SAMPLE_HASH);
    if (pruneJob.length > MAX_NAME_LENGTH) {
      problems.push({
        construct: pipeline,
        message: `the Job name '${pruneJob}' of the step that deletes old runs' folders ('keepArtifactsOfRuns') has ${pruneJob.length} `
          + `characters, more than ${MAX_NAME_LENGTH}; shorten the pipeline id by ${pruneJob.length - MAX_NAME_LENGTH}`,
      });
    }
  }
  const ttl = pipeline.ttlAfterFinished?.toSeconds();
  const minTtl = Math.max(MIN_TTL_SECONDS, MIN_TTL_POLLS * pollInterval.toSeconds());
  if (ttl !== undefined && ttl < minTtl) {
    problems.push({
      construct: pipeline,
      message: `'ttlAfterFinished' is ${ttl}s, shorter than ${minTtl}s: a step Job deleted before the coordinator `
        + 'has seen it complete leaves its downstream steps waiting until the run deadline; set it to at least '
        + `${minTtl}s (${MIN_TTL_POLLS} poll intervals, covering a coordinator restart)`,
    });
  }
  return problems;
}
