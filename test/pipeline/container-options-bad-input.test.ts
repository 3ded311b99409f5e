import { Size } from 'cdk8s';
import { Secret } from 'cdk8s-plus-27';
import { ContainerStep, ImagePullPolicy, Pipeline, StepVolume } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';

describe('bad container options fail synthesis with a precise error and write nothing', () => {
  test('two volumes at one path, whatever their kinds', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p');
      new ContainerStep(p, 's', {
        image,
        secretVolumes: [{ secret: Secret.fromSecretName(p, 'S', 'creds'), mountPath: '/data' }],
        volumes: [{ mountPath: '/data/', volume: StepVolume.fromClaimName('imagenet') }, { mountPath: '/data', volume: StepVolume.emptyDir() }],
      });
    }, `${VALIDATION}[p/s] two volumes are mounted at '/data/' (/data) (secret 'creds' and claim 'imagenet'); give each its own path\n  `
      + '[p/s] two volumes are mounted at \'/data\' (secret \'creds\' and emptyDir); give each its own path');
  });

  test('a volume over /tmp or the workspace', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', {
        image,
        volumes: [
          { mountPath: '/tmp', volume: StepVolume.emptyDir({ sizeLimit: Size.gibibytes(1) }) },
          { mountPath: '/mnt/workspace/p', volume: StepVolume.workspace() },
        ],
      });
    }, `${VALIDATION}[p/s] volume mountPath '/tmp' overlaps /tmp, which every step needs; mount it elsewhere, e.g. /data\n  `
      + '[p/s] volume mountPath \'/mnt/workspace/p\' overlaps /mnt/workspace, which every step needs; mount it elsewhere, e.g. /data');
  });

  test('a relative mount path, a subPath leaving the volume, a bad claim name, a zero size limit', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', {
        image,
        volumes: [
          { mountPath: 'data', volume: StepVolume.fromClaimName('Data Set') },
          { mountPath: '/models', volume: StepVolume.workspace(), subPath: '../other' },
          { mountPath: '/scratch', volume: StepVolume.emptyDir({ sizeLimit: Size.mebibytes(0) }) },
        ],
      });
    }, `${VALIDATION}[p/s] volume mountPath 'data' must be an absolute path\n  `
      + '[p/s] volume subPath \'../other\' at \'/models\' must be a relative path inside the volume, without \'..\'\n  '
      + '[p/s] claim \'Data Set\' is not a valid name: use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit\n  '
      + '[p/s] emptyDir sizeLimit must be a whole number of mebibytes, at least 1; use Size.mebibytes(n) or Size.gibibytes(n)');
  });

  test('an unknown pull policy (from JavaScript, or a cast)', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, imagePullPolicy: 'IfMissing' as ImagePullPolicy });
    }, `${VALIDATION}[p/s] 'imagePullPolicy' must be 'Always', 'IfNotPresent' or 'Never', got 'IfMissing'`);
  });

  test('a container name Kubernetes refuses, or one the library uses', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, containerName: 'Trainer' });
    }, `${VALIDATION}[p/s] 'containerName' 'Trainer' is not a valid name: use only lowercase letters, digits and '-', starting and ending with a letter or digit`);
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, containerName: 'prepare-outputs' });
    }, `${VALIDATION}[p/s] 'containerName' 'prepare-outputs' is the name of a container cdk8s-mlops adds to the pod; choose another`);
  });
});
