/**
 * Reads a pipeline's Jobs and its coordinator's plan with the user's own kubectl (their
 * kubeconfig, context and credentials), run without a shell, so no argument is ever
 * interpreted.
 */
import { execFile } from 'child_process';
import { PIPELINE_LABEL } from '../conventions';
import { asRecord } from '../verify/types';

/** Why the Jobs could not be read: kubectl is missing, failed, or printed something else than JSON. */
export class ReadJobsError extends Error {}

/** What `status` runs: `MLOPS_KUBECTL` when set, else `kubectl` from PATH. */
export function kubectlCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLOPS_KUBECTL || 'kubectl';
}

/**
 * The parsed Job list of `pipeline`, from `namespace` or kubectl's current one. `--chunk-size=0`
 * makes it one API request however many Jobs there are (kubectl pages by 500 otherwise).
 * kubectl gets `env` (KUBECONFIG, HOME for its cache).
 */
export function readJobs(kubectl: string, pipeline: string, namespace: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  return kubectlJson(kubectl, ['get', 'jobs', '-l', `${PIPELINE_LABEL}=${pipeline}`, '-o', 'json', '--chunk-size=0', ...namespaceFlag(namespace)], env);
}

/**
 * The `plan` key of the coordinator's ConfigMap `configMap`: the run's steps and their
 * upstreams, and what the ledger's plan positions mean. Undefined when it has no such key.
 */
export async function readPlan(kubectl: string, configMap: string, namespace: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const cm = await kubectlJson(kubectl, ['get', 'configmap', configMap, '-o', 'json', ...namespaceFlag(namespace)], env);
  const plan = asRecord(asRecord(cm)?.data)?.plan;
  return typeof plan === 'string' ? plan : undefined;
}

function namespaceFlag(namespace: string | undefined): string[] {
  return namespace ? ['-n', namespace] : [];
}

function kubectlJson(kubectl: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(kubectl, args, { env, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new ReadJobsError(`cannot run ${kubectl}: not found; install kubectl or set MLOPS_KUBECTL to its path`));
        return;
      }
      if (error) {
        reject(new ReadJobsError(`${kubectl} ${args.join(' ')} failed: ${(stderr || error.message).trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new ReadJobsError(`${kubectl} ${args.join(' ')} printed something that is not JSON: ${JSON.stringify(stdout.slice(0, 120))}`));
      }
    });
  });
}
