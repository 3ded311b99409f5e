import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ManifestObject, ObserverView } from '../../src/verify/simulator';
import { realKubectl } from '../support/kubectl';

/** A user allowed only to read, for an observer that looks at Jobs and Deployments through the API. */
export const READER = 'serving-reader';
/** Its Role and RoleBinding: list Jobs and Deployments in `ml`, nothing else. */
export const readerRbac: ManifestObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: READER, namespace: 'ml' },
    rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: READER, namespace: 'ml' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: READER },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: READER }],
  },
];

/** What the reader saw at one instant. */
export interface Look { at: number; deployments: Record<string, any>; jobs: string[] }

/** Lists Deployments and Jobs as the reader, with the real kubectl (asynchronously: the API server is in this process). */
export async function lookAt(view: ObserverView): Promise<Look> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-reader-'));
  try {
    fs.writeFileSync(path.join(home, 'kubeconfig'), view.kubeconfig);
    const get = (what: string) => new Promise<any[]>((resolve, reject) => {
      execFile(realKubectl().path, ['get', what, '-n', 'ml', '-o', 'json'], { env: { HOME: home, KUBECONFIG: path.join(home, 'kubeconfig'), PATH: '/usr/bin:/bin' } },
        (e, stdout, stderr) => (e ? reject(new Error(`kubectl get ${what}: ${stderr}`)) : resolve(JSON.parse(stdout).items)));
    });
    const deployments = Object.fromEntries((await get('deployments')).map((d: any) => [d.metadata.name, d]));
    return { at: view.at, deployments, jobs: (await get('jobs')).map((j: any) => j.metadata.name) };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
