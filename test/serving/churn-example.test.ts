import { readFileSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';
import { verifyObjects } from '../../src/verify';
import { findOne, K8sObject } from '../support/synth';

/**
 * Example 1 of the serving issue, end to end: the churn pipeline's gate, then promotion into
 * the registry and an autoscaled server the promotion restarts, as dist/churn.k8s.yaml holds it.
 */
const root = join(__dirname, '..', '..');
const dist: K8sObject[] = parseAllDocuments(readFileSync(join(root, 'dist', 'churn.k8s.yaml'), 'utf8')).map((d) => d.toJS());
const jobOf = (step: string) => findOne(dist, 'Job', (o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === step);

describe('examples/churn: gate, promotion, serving', () => {
  test('dist/churn.k8s.yaml verifies strictly, with nothing external but the Secret and the registry claim', () => {
    expect(verifyObjects(dist).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  test('the promotion runs after the gate, publishes into the registry and restarts exactly the server', () => {
    const promote = jobOf('promote');
    expect(promote.metadata.annotations['mlops.cdk8s.io/depends-on']).toBe('evaluate,evaluate-gate');
    const pod = promote.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'volume-0', persistentVolumeClaim: { claimName: 'churn-models' } });
    expect(pod.serviceAccountName).toBe('churn-promote');
    expect(findOne(dist, 'Role', (o) => o.metadata.name === 'churn-promote').rules)
      .toEqual([{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['churn-server'] }]);
    // The gate compares with the latest published version.
    const gate = jobOf('evaluate-gate').spec.template.spec.containers[0];
    expect(gate.env).toContainEqual({ name: 'MLOPS_GATE_BASELINE_REGISTRY', value: '/mnt/baseline/churn' });
  });

  test('the server autoscales, reads the registry read-only and names no Job', () => {
    const deployment = findOne(dist, 'Deployment', (o) => o.metadata.name === 'churn-server');
    expect(deployment.spec.replicas).toBeUndefined();
    expect(findOne(dist, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 2, maxReplicas: 8 });
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'registry', persistentVolumeClaim: { claimName: 'churn-models', readOnly: true } });
    expect(JSON.stringify(deployment)).not.toMatch(/workspace|churn-promote/);
  });
});
