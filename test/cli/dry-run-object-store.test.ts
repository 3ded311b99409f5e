import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { DRY_RUN_ACCESS_KEY_ID, objectStoreStandIns } from '../../src/cli/dry-run-object-store';
import { libraryContainerRefusal } from '../../src/cli/dry-run-safety';
import { main } from '../../src/cli/main';
import { registryS3Script } from '../../src/backends/plain/assets';
import { objectStorePipeline } from '../serving/promote-fixtures';
import { realKubectl } from '../support/kubectl';

// A guard against hangs, not a speed check: the promotion's upload runs the real AWS CLI.
jest.setTimeout(600_000);

const objects = () => {
  const app = Testing.app();
  return Testing.synth(objectStorePipeline(app).p) as any[];
};

describe('verify\'s dry run of a pipeline whose registry is on an object store', () => {
  test('runs the gate\'s download and the promotion\'s upload for real against an empty S3 model, with stand-ins for the key\'s Secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-cli-s3-'));
    writeFileSync(join(dir, 'churn.k8s.yaml'), objects().map((o) => stringify(o)).join('---\n'));
    let out = '';
    const saved = process.env.MLOPS_KUBECTL;
    process.env.MLOPS_KUBECTL = realKubectl().path;
    try {
      const code = await main(['verify', dir, '--no-plan'], { out: (t) => void (out += t), err: (t) => void (out += t) });
      expect({ code, out }).toMatchObject({ code: 0 });
    } finally {
      if (saved === undefined) delete process.env.MLOPS_KUBECTL;
      else process.env.MLOPS_KUBECTL = saved;
    }
    expect(out).toMatch(/dry run of churn: all 6 steps completed in \d+s simulated/);
  });

  test('the stand-ins: the buckets and the Secrets the object-store containers name, nothing else', () => {
    const standIns = objectStoreStandIns(objects(), 'ml');
    expect(standIns).toEqual({
      buckets: ['ml-models'],
      secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-s3', namespace: 'ml' }, stringData: { 'access-key-id': DRY_RUN_ACCESS_KEY_ID, 'secret-access-key': 'dry-run' } }],
    });
    expect(objectStoreStandIns(objects().filter((o) => !JSON.stringify(o).includes('registry-s3.sh')), 'ml')).toBeUndefined();
  });

  test('the object-store script may have the AWS_* variables the library sets, no other', () => {
    const c = { container: 'publish', script: registryS3Script(), mountPaths: ['/tmp'] };
    const env = { MLOPS_S3_BUCKET: 'ml-models', AWS_DEFAULT_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: DRY_RUN_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'dry-run', AWS_EC2_METADATA_DISABLED: 'true', HOME: '/tmp' };
    expect(libraryContainerRefusal({ ...c, env })).toBeUndefined();
    expect(libraryContainerRefusal({ ...c, env: { ...env, AWS_CONFIG_FILE: '/tmp/x' } })).toBe('it sets AWS_CONFIG_FILE, a variable cdk8s-mlops never sets (the shell or loader may act on it)');
    // Another library script does not get them.
    expect(libraryContainerRefusal({ ...c, script: registryS3Script().replace('registry', 'x'), env })).toBe('its script is not one this version of cdk8s-mlops ships; regenerate the YAML with cdk8s synth');
  });
});
