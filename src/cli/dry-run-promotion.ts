import type { ManifestObject } from '../verify/simulator';

/**
 * The files a dry run's modelled steps leave so that a promotion (assets/promote.sh, run for
 * real like every library container) has a model to publish: for each step whose container
 * is told `MLOPS_REGISTRY_MODEL` (a `Promote`), the step that writes its `MLOPS_INPUT_MODEL`
 * folder (the Job whose env has that folder as an `MLOPS_OUTPUT_*`) leaves one file in it.
 * Returns step name to (path to content), to merge into the dry run's step behaviours.
 */
export function promotionInputs(steps: ReadonlyArray<{ readonly step: string; readonly job: string }>, own: readonly ManifestObject[]): Record<string, Record<string, string>> {
  const envOf = (job: string): Array<{ name?: string; value?: unknown }> =>
    own.find((o) => o.kind === 'Job' && o.metadata.name === job)?.spec?.template?.spec?.containers?.[0]?.env ?? [];
  const files: Record<string, Record<string, string>> = {};
  for (const s of steps) {
    const env = envOf(s.job);
    if (!env.some((e) => e?.name === 'MLOPS_REGISTRY_MODEL')) continue;
    const model = env.find((e) => e?.name === 'MLOPS_INPUT_MODEL')?.value;
    if (typeof model !== 'string') continue;
    const producer = steps.find((p) => envOf(p.job).some((e) => typeof e?.name === 'string' && e.name.startsWith('MLOPS_OUTPUT_') && e.value === model));
    if (producer) files[producer.step] = { ...files[producer.step], [`${model}/model.bin`]: 'a model written by the dry run' };
  }
  return files;
}

/** The only hook a dry run lets a promotion run: `kubectl rollout restart deployment/<name>`. */
const RESTART = /^deployment\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why a promotion's hooks may not run in a dry run, or undefined. `assets/promote.sh` runs the
 * commands in `MLOPS_PROMOTION_HOOKS`; the YAML `verify` reads is not trusted, so only the
 * hook the library generates (a rollout restart with the real kubectl, against the simulated
 * API server) runs, never a command the file names.
 */
export function promotionHookRefusal(env: Readonly<Record<string, string>>): string | undefined {
  const text = env.MLOPS_PROMOTION_HOOKS;
  if (text === undefined) return undefined;
  let hooks: unknown;
  try {
    hooks = JSON.parse(text);
  } catch {
    return 'MLOPS_PROMOTION_HOOKS is not JSON';
  }
  const ok = Array.isArray(hooks) && hooks.every((h) => {
    const c = h?.command;
    return Array.isArray(c) && c.length === 4 && c[0] === 'kubectl' && c[1] === 'rollout' && c[2] === 'restart' && typeof c[3] === 'string' && RESTART.test(c[3]);
  });
  return ok ? undefined : 'MLOPS_PROMOTION_HOOKS names a command other than `kubectl rollout restart deployment/<name>`; a dry run runs no command a file names';
}
