import type { PipelineGraph } from '../../model/graph';
import { shortHash } from '../../model/names';
import type { Pipeline } from '../../model/pipeline';
import { BatchStep } from '../../model/batch-step';
import type { Gate } from '../../model/gate';
import type { Step } from '../../model/step';
import type { StepGroup } from '../../model/step-group';
import { RUN_HASH_PLACEHOLDER, RUN_PLACEHOLDER, runStepDirectory } from './scheduled-run';
import { externalReferences, renderStepJobSpec, setStepDirectory, stepDirectory } from './step-job';
import type { ValuesReporterContext } from './values-reporter';

/** Stands for a step's own directory until its hash is known. */
const OWN_DIR = '@@step-dir@@';

/** One step as the plain backend renders it. */
export interface PlannedStep {
  readonly step: Step;
  /** `<pipeline>-<step>-<hash>`. */
  readonly jobName: string;
  readonly hash: string;
  /** The step's folder in the workspace; its outputs are subfolders. */
  readonly dir: string;
  /** The Job's `spec`. */
  readonly jobSpec: Record<string, any>;
  /** Upstream step names, sorted. */
  readonly dependsOn: string[];
  /** `kind/name` of what the step references but the pipeline does not create. */
  readonly externalRefs: string[];
  /** Plan column 4 (docs/coordinator-contract.md): the step's trigger rule, or `exit` for an exit handler. */
  readonly trigger: string;
  /** Plan column 5: `job` for a batch step, `gate` for a gate. */
  readonly kind: string;
  /** Plan column 6: the step's condition as compact JSON, or `-`. */
  readonly condition: string;
  /** Plan column 7: the values the step reads, `alias=step.value` comma-separated, or `-`. */
  readonly valuesIn: string;
  /** Whether the step's pod writes its values on its own Job (it needs the reporter's grant). */
  readonly reportsValues: boolean;
  /** Plan column 8: `<group>:<failures it tolerates>` for a member of a group with a failure budget. */
  readonly budget?: string;
  /** Plan column 9: `<group>:<at most at once>` for a member of a group with a cap. */
  readonly cap?: string;
}

/** Settings of the plain backend that shape what each step renders to. */
export interface PlanSettings {
  readonly utilityImage: string;
  readonly workspaceClaim: string;
  /**
   * Steps whose Job and folder belong to one run of a scheduled or on-demand pipeline: named
   * and placed with the run's placeholders, which the run prelude fills in.
   */
  readonly perRun?: (step: Step) => boolean;
  /** The ConfigMap holding a library script (`useLibraryScript`). */
  readonly libraryScriptConfigMap: (script: string) => string;
  /** The Job spec of a gate, given where its upstream steps keep their files. */
  readonly renderGate: (gate: Gate, stepDirOf: (step: Step) => string) => Record<string, any>;
  /** What reports values, for steps that declare some. */
  readonly valuesReporter: () => ValuesReporterContext;
}

/**
 * Every step rendered and named, in topological order.
 *
 * A step's hash covers its rendered Job spec, its upstream steps' hashes and the run id:
 * Job specs are immutable, so anything that changes what runs must change the name, and
 * a changed upstream must re-run everything downstream of it.
 */
export function planPipeline(pipeline: Pipeline, graph: PipelineGraph, settings: PlanSettings): PlannedStep[] {
  const planned = new Map<Step, PlannedStep>();
  // Members of a fan-out or sweep share one directory, named by a hash over all of them,
  // so their specs keep the placeholder until the last member is planned.
  const pendingMembers = new Map<StepGroup, PlannedStep[]>();
  const ttl = pipeline.ttlAfterFinished?.toSeconds();
  // Exit handlers last: they run after every other step, and the plan is in run order.
  const order = graph.topologicalOrder();
  const handlers = order.filter((s) => pipeline.isExitHandler(s));
  for (const step of [...order.filter((s) => !pipeline.isExitHandler(s)), ...handlers]) {
    const exitHandler = pipeline.isExitHandler(step);
    const member = step.groupMembership;
    // The pipeline admits only the kinds this backend declares: batch steps and gates.
    const spec = BatchStep.isBatchStep(step) ? step.spec() : undefined;
    const perRun = settings.perRun?.(step) ?? false;
    const stepDirOf = (producer: Step) => planned.get(producer)!.dir;
    // The step's own directory contains its hash, which covers the spec: render with a
    // placeholder, hash, then put the real directory in.
    const jobSpec: Record<string, any> = spec ? renderStepJobSpec(spec, {
      pipelineName: pipeline.pipelineName,
      stepName: step.stepName,
      stepDir: OWN_DIR,
      stepDirOf,
      workspaceClaim: settings.workspaceClaim,
      utilityImage: settings.utilityImage,
      labels: pipeline.extraLabels,
      exitHandler,
      run: perRun ? RUN_PLACEHOLDER : undefined,
      valuesReporter: settings.valuesReporter,
      outputSuffix: member && `/${member.index}`,
      libraryScriptConfigMap: spec.libraryScript === undefined ? undefined : settings.libraryScriptConfigMap(spec.libraryScript),
    }) : settings.renderGate(step as Gate, stepDirOf);
    const upstream = graph.upstream(step).map((u) => planned.get(u)!);
    // A handler waits for no step, yet reports on all of them: a changed step is a new run
    // whose handler must run again, so it hashes over every other step.
    const covered = exitHandler ? [...planned.values()].filter((p) => !pipeline.isExitHandler(p.step)) : upstream;
    const hash = shortHash({
      jobSpec,
      namespace: pipeline.namespace,
      runId: pipeline.runId,
      upstream: covered.map((u) => u.hash).sort(),
    });
    const dir = perRun ? runStepDirectory(pipeline.pipelineName, step.stepName) : stepDirectory(pipeline.pipelineName, step.stepName, hash);
    if (spec && !member) setStepDirectory(jobSpec, OWN_DIR, dir);
    // TTL is mutable on a Job and says nothing about what runs: outside the hash, so changing
    // it does not re-run the pipeline.
    if (ttl !== undefined) jobSpec.ttlSecondsAfterFinished = ttl;
    const group = member?.group;
    const entry: PlannedStep = {
      step,
      jobName: stepJobName(pipeline.pipelineName, step.stepName, perRun ? RUN_HASH_PLACEHOLDER : hash),
      hash,
      dir,
      jobSpec,
      dependsOn: upstream.map((u) => u.step.stepName).sort(),
      externalRefs: spec ? externalReferences(spec, pipeline.workspace.existingClaimName) : gateReferences(step as Gate, pipeline.workspace.existingClaimName),
      trigger: exitHandler ? 'exit' : step.triggerRule,
      kind: spec ? 'job' : 'gate',
      // The condition and the values read decide when and with what a step runs, as the
      // trigger rule does; the values' env (not their content) is in the spec and its hash.
      condition: step.condition?.toPlanJson() ?? '-',
      valuesIn: Object.entries(step.inputValues).map(([alias, v]) => `${alias}=${v.producer.stepName}.${v.name}`).join(',') || '-',
      reportsValues: Object.keys(step.values).length > 0,
      budget: group && group.failureBudget > 0 ? `${group.name}:${group.failureBudget}` : undefined,
      cap: group?.parallelism !== undefined ? `${group.name}:${group.parallelism}` : undefined,
    };
    planned.set(step, entry);
    if (group) {
      const members = [...(pendingMembers.get(group) ?? []), entry];
      pendingMembers.set(group, members);
      if (members.length === group.members.length) {
        const groupDir = perRun ? runStepDirectory(pipeline.pipelineName, group.name)
          : stepDirectory(pipeline.pipelineName, group.name, shortHash(members.map((m) => m.hash)));
        for (const m of members) {
          setStepDirectory(m.jobSpec, OWN_DIR, groupDir);
          planned.set(m.step, { ...m, dir: groupDir });
        }
      }
    }
  }
  return [...planned.values()];
}

export function stepJobName(pipelineName: string, stepName: string, hash: string): string {
  return `${pipelineName}-${stepName}-${hash}`;
}

/** Defaults of plan columns 4 to 9, which a line leaves out when they all hold from there on. */
const COLUMN_DEFAULTS = ['all-succeeded', 'job', '-', '-', '-', '-'];

/**
 * The coordinator's plan file (docs/coordinator-contract.md): `<step>\t<job>\t<upstream
 * steps or ->` per line, then the optional columns up to the last that differs from its
 * default, so a pipeline without control flow keeps its three-column plan.
 */
export function planText(steps: readonly PlannedStep[]): string {
  return steps.map((s) => {
    const columns = [s.step.stepName, s.jobName, s.dependsOn.join(',') || '-', s.trigger, s.kind, s.condition, s.valuesIn, s.budget ?? '-', s.cap ?? '-'];
    while (columns.length > 3 && columns[columns.length - 1] === COLUMN_DEFAULTS[columns.length - 4]) columns.pop();
    return `${columns.join('\t')}\n`;
  }).join('');
}

/** What a gate references but the pipeline does not create: an existing workspace, the baseline's claim or object-store Secret. */
function gateReferences(gate: Gate, existingClaim: string | undefined): string[] {
  const claims = new Set<string>();
  if (existingClaim !== undefined) claims.add(existingClaim);
  const baseline = gate.baseline?.location;
  if (baseline?.claimName !== undefined) claims.add(baseline.claimName);
  const secrets = baseline?.objectStore ? [`secret/${baseline.objectStore.credentials.secret}`] : [];
  return [...secrets, ...[...claims].sort().map((name) => `persistentvolumeclaim/${name}`)];
}
