import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { churnPipeline } from '../../examples/churn/pipeline';
import { churnEndToEnd } from '../../examples/churn/serving';
import { envOf, findOne, stepJobs, synth } from '../support/synth';

const { objects } = synth(churnPipeline);
const jobs = stepJobs(objects);
const dependsOn = (step: string) => jobs[step].metadata.annotations?.['mlops.cdk8s.io/depends-on'] ?? '';
const container = (step: string) => jobs[step].spec.template.spec.containers[0];

describe('the churn example, built from typed steps', () => {
  test('has one suspended Job per step and one for the gate, and the coordinator last', () => {
    expect(Object.keys(jobs)).toEqual(['ingest', 'profile', 'features', 'train', 'evaluate', 'evaluate-gate']);
    for (const job of Object.values(jobs)) expect(job.spec.suspend).toBe(true);
    const kinds = objects.map((o) => o.kind);
    expect(kinds.lastIndexOf('Job')).toBe(objects.findIndex((o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator' && o.kind === 'Job'));
    expect(kinds.indexOf('PersistentVolumeClaim')).toBeLessThan(kinds.indexOf('Job'));
  });

  test('orders steps by the artifacts they read; the gate follows the evaluation', () => {
    expect(dependsOn('ingest')).toBe('');
    expect(dependsOn('profile')).toBe('ingest');
    expect(dependsOn('features')).toBe('ingest');
    expect(dependsOn('train')).toBe('features');
    expect(dependsOn('evaluate')).toBe('features,train');
    expect(dependsOn('evaluate-gate')).toBe('evaluate');
  });

  test('the coordinator plan names the same Jobs and edges as the Jobs themselves, the gate as kind gate', () => {
    const configMap = findOne(objects, 'ConfigMap', (o) => o.metadata.labels?.['mlops.cdk8s.io/role'] === 'coordinator');
    const lines = configMap.data.plan.trim().split('\n').map((l: string) => l.split('\t'));
    expect(lines).toEqual(Object.entries(jobs).map(([step, job]) => [
      step, job.metadata.name, dependsOn(step) || '-', ...(step === 'evaluate-gate' ? ['all-succeeded', 'gate'] : []),
    ]));
  });

  test('hands each consumer the producer\'s artifact location: the split\'s train to train, its test and the model to evaluate, the metrics to the gate', () => {
    const hashOf = (step: string) => jobs[step].metadata.name.split('-').pop();
    const dataset = envOf(container('ingest')).MLOPS_OUTPUT_DATASET;
    // <mount>/<pipeline>/<step>-<the step's hash, the one its Job name ends with>/<artifact>
    expect(dataset).toBe(`/mnt/workspace/churn/ingest-${hashOf('ingest')}/dataset`);
    expect(envOf(container('features')).MLOPS_INPUT_EVENTS).toBe(dataset);
    expect(envOf(container('profile')).MLOPS_INPUT_EVENTS).toBe(dataset);
    const features = envOf(container('features'));
    expect([features.MLOPS_SPLIT_TRAIN, features.MLOPS_SPLIT_TEST, features.MLOPS_SPLIT_SEED]).toEqual(['0.8', '0.2', '7']);
    expect(envOf(container('train')).MLOPS_INPUT_FEATURES).toBe(features.MLOPS_OUTPUT_TRAIN);
    expect(envOf(container('evaluate'))).toMatchObject({
      MLOPS_INPUT_MODEL: envOf(container('train')).MLOPS_OUTPUT_MODEL,
      MLOPS_INPUT_TEST: features.MLOPS_OUTPUT_TEST,
      MLOPS_METRICS: 'auc,logloss',
    });
    expect(envOf(container('evaluate-gate'))).toMatchObject({
      MLOPS_INPUT_METRICS: envOf(container('evaluate')).MLOPS_OUTPUT_METRICS,
      MLOPS_GATE_THRESHOLDS: '[{"metric":"auc","op":">=","value":0.8}]',
    });
    // The init container creates exactly the step's output directories.
    expect(jobs.train.spec.template.spec.initContainers[0].command).toEqual(['mkdir', '-p', `/mnt/workspace/churn/train-${hashOf('train')}/model`]);
    const claim = jobs.train.spec.template.spec.volumes.find((v: any) => v.name === 'workspace').persistentVolumeClaim.claimName;
    expect(findOne(objects, 'PersistentVolumeClaim').metadata.name).toBe(claim);
  });

  test('ingest copies from S3 with the built-in copy; the credentials reach it by Secret reference only', () => {
    const c = container('ingest');
    expect(c.image).toBe('rclone/rclone:1.68.2');
    expect(c.args).toEqual(['copy', 'source:acme-datalake/churn/events/2026-10/', '$(MLOPS_OUTPUT_DATASET)']);
    const env = envOf(c);
    expect(env.RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: 'churn-s3-credentials', key: 'access-key-id' } });
    expect(env.RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: 'churn-s3-credentials', key: 'secret-access-key' } });
    expect(env.RCLONE_CONFIG_SOURCE_REGION).toBe('eu-central-1');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(jobs.ingest.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/churn-s3-credentials');
    // Other steps never see the credentials.
    for (const step of ['profile', 'features', 'train', 'evaluate', 'evaluate-gate']) {
      expect(JSON.stringify(jobs[step])).not.toContain('churn-s3-credentials');
    }
  });

  test('train gets its GPU as request and limit, tolerates the GPU taint, and its hyperparameters as env', () => {
    const { resources } = container('train');
    expect(resources.limits['nvidia.com/gpu']).toBe('1');
    expect(resources.requests['nvidia.com/gpu']).toBe('1');
    expect(jobs.train.spec.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(jobs.train.spec.activeDeadlineSeconds).toBe(7200);
    expect(envOf(container('train'))).toMatchObject({ MLOPS_HP_EPOCHS: '20', MLOPS_HP_LEARNING_RATE: '0.05', MLOPS_HYPERPARAMETERS: '{"epochs":20,"learning_rate":0.05}' });
    for (const step of ['ingest', 'profile', 'features', 'evaluate', 'evaluate-gate']) {
      expect(JSON.stringify(container(step).resources)).not.toContain('gpu');
    }
  });

  test('every object lives in the pipeline namespace and carries the pipeline label', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('ml-churn');
      expect(o.metadata.labels['mlops.cdk8s.io/pipeline']).toBe('churn');
      expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('cdk8s-mlops');
    }
  });

  test('the approved model is reachable for promotion and serving', () => {
    const churn = churnPipeline(new App());
    expect(churn.approvedModel).toBe(churn.evaluate.approvedModel);
    expect(churn.evaluate.gate.thresholds.map((t) => t.toJson())).toEqual([{ metric: 'auc', op: '>=', value: 0.8 }]);
  });

  test('the README draws the pipeline as pipeline.toMermaid() draws it', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    // The README draws other examples too: this is the block of pipeline churn.
    const blocks = [...readme.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]).filter((b) => b.includes('%% pipeline churn (namespace ml-churn)'));
    expect(blocks).toHaveLength(1);
    // The example as dist/ holds it: the pipeline, then promotion and serving (examples/churn/serving.ts).
    expect(blocks[0]).toBe(churnEndToEnd(new App()).pipeline.toMermaid().trimEnd() + '\n');
  });
});
