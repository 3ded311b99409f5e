import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findKubectl, KubectlClient } from '../../src/verify/simulator';
import { ApiServer } from '../../src/verify/simulator/api-server';
import { Cluster, ClusterOptions } from '../../src/verify/simulator/cluster';
import { serviceAccountUser } from '../../src/verify/simulator/rbac';
import { ManifestObject } from '../../src/verify/simulator/types';

/**
 * The real kubectl the tests run: $MLOPS_KUBECTL, else the dev dependency's 1.28.3, else
 * PATH. Throws (failing the test) with how to get one when there is none: never a skip.
 */
export function realKubectl(): KubectlClient {
  return findKubectl();
}

/** Other kubectl versions on this machine (the Cloud SDK ships them side by side), by minor version. */
export const OTHER_CLIENTS: Record<string, string> = {
  '1.27': '/usr/lib/google-cloud-sdk/bin/kubectl.1.27',
  '1.33': '/usr/lib/google-cloud-sdk/bin/kubectl.1.33',
};

export interface KubectlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A cluster holding `objects` behind the simulated API server, and a function that runs the
 * real kubectl against it as the coordinator's ServiceAccount (or with any token). Pods run
 * as `behaviour` says (default: 10 s each, exit 0).
 */
export async function apiFixture(
  objects: readonly ManifestObject[],
  sa = { namespace: 'ml', name: 'demo-coordinator' },
  client = realKubectl().path,
  behaviour: ClusterOptions['behaviour'] = () => ({ durations: [10] }),
) {
  const cluster = new Cluster({ epoch: 1_700_000_000, namespace: 'ml', podStartSeconds: 0, behaviour });
  cluster.apply(objects);
  const token = 'token-of-the-coordinator-pod';
  const requests: Array<{ verb: string; url: string; code: number }> = [];
  const api = new ApiServer({
    cluster,
    authenticate: (t) => (t === token ? serviceAccountUser(sa.namespace, sa.name) : undefined),
    onRequest: (_t, r) => requests.push({ verb: r.verb, url: r.url, code: r.code }),
  });
  await api.start();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-kubectl-'));
  const config = path.join(home, 'kubeconfig');
  fs.writeFileSync(config, api.kubeconfig(token, 'ml'));
  const run = (...argv: string[]): Promise<KubectlRun> =>
    new Promise((resolve) => {
      execFile(client, argv, { env: { HOME: home, KUBECONFIG: config, PATH: '/usr/bin:/bin' }, maxBuffer: 256 * 1024 * 1024 }, (e, stdout, stderr) =>
        resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout, stderr }));
    });
  const close = () => {
    api.close();
    fs.rmSync(home, { recursive: true, force: true });
  };
  return { cluster, api, run, requests, config, home, close };
}
