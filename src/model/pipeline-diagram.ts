import { BatchStep } from './batch-step';
import { buildDiagram, EXIT_TRIGGER, PipelineDiagram } from './diagram';
import type { Pipeline } from './pipeline';
import { toQuantities } from './resources';

/**
 * The diagram of a pipeline from its model alone: no Kubernetes object is rendered, so it
 * works with any backend. Throws, naming the pipeline and the fix, when the pipeline cannot
 * be drawn (a cycle, a duplicate or foreign step, no steps): what synthesis would refuse.
 */
export function diagramOfPipeline(pipeline: Pipeline): PipelineDiagram {
  const graph = pipeline.graph;
  const problems = [
    ...graph.problems.map((p) => `[${p.construct.node.path}] ${p.message}`),
    ...(pipeline.steps.length === 0 ? [`[${pipeline.node.path}] pipeline has no steps; add one, e.g. new ContainerStep(pipeline, 'train', { image })`] : []),
  ];
  if (problems.length) throw new Error(`cannot draw pipeline '${pipeline.pipelineName}': ${problems.join('; ')}`);
  return buildDiagram({
    pipeline: pipeline.pipelineName,
    namespace: pipeline.namespace,
    nodes: pipeline.steps.map((step) => {
      const upstreams = graph.upstream(step).map((u) => u.stepName);
      if (!BatchStep.isBatchStep(step)) {
        // A node the library runs itself (a gate): no user container to show.
        return { name: step.stepName, kind: step.kind.name, image: '', requests: {}, limits: {}, accelerators: {}, parallelism: 1, upstreams, trigger: step.triggerRule };
      }
      const spec = step.spec();
      const { requests, limits } = toQuantities(spec.resources);
      // Pods of an Indexed Job that run at once, as the Job's parallelism and completions say.
      const parallelism = Math.min(spec.fanOutParallelism, spec.fanOut);
      return {
        name: step.stepName,
        kind: 'job',
        image: spec.image,
        requests,
        limits,
        accelerators: spec.gpu ? { [spec.gpu.resourceName]: spec.gpu.count * parallelism } : {},
        parallelism,
        upstreams,
        // An exit handler runs once every other step is final (the plan's `exit` rule).
        trigger: pipeline.isExitHandler(step) ? EXIT_TRIGGER : step.triggerRule,
        condition: step.condition?.toString(),
      };
    }),
    maxParallel: pipeline.maxParallel ?? 0,
    warnings: pipeline.warnings,
    serving: [],
  });
}
