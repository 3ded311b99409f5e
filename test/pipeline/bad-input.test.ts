import { Duration, Size } from 'cdk8s';
import { Cpu, EnvValue, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ContainerStep, Dataset, Gpu, Pipeline, PlainBackend, Workspace } from '../../src';
import { expectSynthFailure as expectFailure, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';

describe('bad input fails synthesis with a precise error and writes nothing', () => {
  test('fails on a dependency cycle, naming it', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const a = new ContainerStep(p, 'a', { outputs: { out: Dataset } });
      const b = new ContainerStep(p, 'b', { inputs: { x: a.outputs.out }, outputs: { out: Dataset } });
      const c = new ContainerStep(p, 'c', { inputs: { x: b.outputs.out } });
      a.after(c);
    }, `${VALIDATION}[p/a] dependency cycle detected: a => b => c => a; remove one of these after() calls or inputs`);
  });

  test('fails on a step that waits for itself', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const a = new ContainerStep(p, 'a');
      a.after(a);
    }, `${VALIDATION}[p/a] dependency cycle detected: a => a; remove one of these after() calls or inputs`);
  });

  test('fails on a duplicate step id', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train');
      new ContainerStep(p, 'train');
    }, 'There is already a Construct with name \'train\' in Pipeline [p]');
  });

  test('fails on two steps whose derived names clash', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(new Construct(p, 'tune'), 'fit');
      new ContainerStep(p, 'tune-fit');
    }, `${VALIDATION}[p/tune-fit] duplicate step name 'tune-fit' (also used by p/tune/fit); rename one of the two constructs`);
  });

  test('fails on a step id that is not a DNS-1123 label', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 'Train_Model', { image });
    }, '[p/Train_Model] step id \'Train_Model\' is not a valid name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit');
  });

  test('fails on a pipeline id that is not a DNS-1123 label', () => {
    expectFailure((app) => new Pipeline(app, 'churn.v2'),
      '[churn.v2] pipeline id \'churn.v2\' is not a valid name: use only lowercase letters, digits and \'-\', starting and ending with a letter or digit');
  });

  test('fails when the derived Job name exceeds 63 characters', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'customer-churn-weekly-retraining');
      new ContainerStep(p, 'feature-engineering-with-holdout', { image });
    }, `${VALIDATION}[customer-churn-weekly-retraining/feature-engineering-with-holdout] the Job name `
      + '\'customer-churn-weekly-retraining-feature-engineering-with-holdout-12345678\' derived from pipeline '
      + '\'customer-churn-weekly-retraining\' and step \'feature-engineering-with-holdout\' has 74 characters, more than 63; '
      + 'shorten the pipeline or step id by 11');
  });

  test('fails on a negative cpu quantity', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, resources: { cpu: { request: Cpu.millis(-5), limit: Cpu.units(1) } } });
    }, `${VALIDATION}[p/s] 'resources.cpu.request' is not a valid quantity (cpu '-5m'); use Cpu.millis(n) or Cpu.units(n) with n >= 0`);
  });

  test('fails on a memory size that is not a whole number of mebibytes', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, resources: { memory: { request: Size.kibibytes(1500), limit: Size.gibibytes(1) } } });
    }, `${VALIDATION}[p/s] 'resources.memory.request' is not a valid quantity (1.46484375 MiB); use a whole, non-negative number of mebibytes, e.g. Size.mebibytes(512)`);
  });

  test('fails on a request larger than its limit', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, resources: { cpu: { request: Cpu.units(4), limit: Cpu.units(2) } } });
    }, `${VALIDATION}[p/s] 'resources.cpu.request' (4) is larger than its limit (2); raise the limit or lower the request`);
  });

  test('fails on a missing image', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 'train');
    }, `${VALIDATION}[p/train] no container image: set 'image' on the step or 'defaults.image' on the pipeline`);
  });

  test('fails on consuming an artifact of a step in another pipeline', () => {
    expectFailure((app) => {
      const other = new Pipeline(app, 'etl', { defaults: { image } });
      const extract = new ContainerStep(other, 'extract', { outputs: { rows: Dataset } });
      const p = new Pipeline(app, 'p', { defaults: { image } });
      new ContainerStep(p, 'train', { inputs: { rows: extract.outputs.rows } });
    }, `${VALIDATION}[p/train] step 'train' depends on 'etl/extract', which belongs to pipeline 'etl'; `
      + 'a pipeline can only wait for its own steps: move that step into this pipeline or pass the data another way');
  });

  test('fails on a step outside any pipeline', () => {
    expectFailure((app) => {
      new ContainerStep(new Construct(app, 'loose'), 's', { image });
    }, '[loose/s] a step must be defined inside a Pipeline; pass the pipeline (or a construct inside it) as the scope');
  });

  test('fails on a GPU count that is not a whole number', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, gpu: Gpu.nvidia(0.5) });
    }, `${VALIDATION}[p/s] gpu count must be a whole number from 1 to 256 (no node offers one pod more), got 0.5`);
  });

  test('fails on an extended resource name without a vendor domain', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, gpu: Gpu.resource('gpu', 1) });
    }, `${VALIDATION}[p/s] 'gpu' is not an extended resource name; use '<vendor-domain>/<name>', e.g. 'nvidia.com/gpu'`);
  });

  test('fails on retries out of range and fan-out parallelism above fan-out', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, retries: -1, fanOut: 4, fanOutParallelism: 8 });
    }, `${VALIDATION}[p/s] 'retries' must be a whole number from 0 to 100, got -1\n  `
      + '[p/s] \'fanOutParallelism\' must be a whole number from 1 to fanOut (4), got 8');
  });

  test('fails on an env var that shadows the artifact variables', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, env: { MLOPS_OUTPUT_MODEL: EnvValue.fromValue('/tmp') } });
    }, `${VALIDATION}[p/s] env var 'MLOPS_OUTPUT_MODEL' is set by cdk8s-mlops or Kubernetes (artifact locations, the fan-out index); rename it`);
  });

  test('fails on an output name that cannot become an env var', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, outputs: { 'Raw-Data': Dataset } });
    }, '[p/s] output name \'Raw-Data\' is invalid: use lowercase letters, digits and \'_\', starting with a letter (it becomes an env var suffix and a directory name)');
  });

  test('fails on a pipeline with no steps', () => {
    expectFailure((app) => new Pipeline(app, 'empty'),
      `${VALIDATION}[empty] pipeline has no steps; add one, e.g. new ContainerStep(pipeline, 'train', { image })`);
  });

  test('fails on a label value Kubernetes would refuse', () => {
    expectFailure((app) => new Pipeline(app, 'p', { labels: { 'cost-center': 'ML Platform' } }),
      '[p] label value \'ML Platform\' of \'cost-center\' is invalid; use at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit');
  });

  test('fails on a label key with an invalid prefix', () => {
    expectFailure((app) => new Pipeline(app, 'p', { labels: { 'Acme.com/team': 'ml' } }),
      '[p] label key \'Acme.com/team\' has an invalid prefix; use a DNS subdomain such as \'example.com/\'');
  });

  test('fails on maxParallel below 1', () => {
    expectFailure((app) => new Pipeline(app, 'p', { maxParallel: 0 }),
      '[p] \'maxParallel\' must be a whole number from 1 to 10000, got 0');
  });
});

describe('settings that would break the run at run time', () => {
  test('fails on a TTL too short for the coordinator to see a Job complete', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p', { ttlAfterFinished: Duration.seconds(30) });
      new ContainerStep(p, 's', { image });
    }, `${VALIDATION}[p] 'ttlAfterFinished' is 30s, shorter than 60s: a step Job deleted before the coordinator has seen it `
      + 'complete leaves its downstream steps waiting until the run deadline; set it to at least 60s (12 poll intervals, covering a coordinator restart)');
  });

  test('fails on root with runAsNonRoot still on, which the kubelet would refuse', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, security: { user: 0 } });
    }, `${VALIDATION}[p/s] 'security.user' is 0 (root) while runAsNonRoot is on: the kubelet would refuse to start the container; `
      + 'use a non-zero uid, or set security.runAsNonRoot to false to run as root on purpose');
  });

  test('fails on an image reference the runtime cannot parse', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image: 'ghcr.io/Acme/Churn:1.0' });
    }, `${VALIDATION}[p/s] image 'ghcr.io/Acme/Churn:1.0' is not a valid image reference; use [registry/]repository[:tag][@sha256:digest] with a lowercase repository`);
  });

  test('fails on secret volumes over the workspace or on one path twice', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p');
      const secret = Secret.fromSecretName(p, 'S', 'creds');
      new ContainerStep(p, 's', { image, secretVolumes: [{ secret, mountPath: '/tmp/creds' }, { secret, mountPath: '/etc/a' }, { secret, mountPath: '/etc/a/' }] });
    }, `${VALIDATION}[p/s] secret volume mountPath '/tmp/creds' overlaps /tmp, which every step needs; mount it elsewhere, e.g. /etc/secrets/<name>\n  `
      + '[p/s] two secret volumes are mounted at \'/etc/a/\' (/etc/a); give each its own path');
  });

  test('fails on env names Kubernetes refuses or owns', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, env: { '..x': EnvValue.fromValue('1'), 'JOB_COMPLETION_INDEX': EnvValue.fromValue('0') } });
    }, `${VALIDATION}[p/s] env var name '..x' is invalid; use letters, digits, '_', '-' or '.', not starting with a digit or '..'\n  `
      + '[p/s] env var \'JOB_COMPLETION_INDEX\' is set by cdk8s-mlops or Kubernetes (artifact locations, the fan-out index); rename it');
  });

  test('fails on a toleration with operator Exists and a value', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, tolerations: [{ key: 'gpu', operator: 'Exists', value: 'true' }] });
    }, `${VALIDATION}[p/s] toleration 0: operator 'Exists' takes no value, got 'true'; drop the value or use 'Equal'`);
  });

  test('fails on a node selector value that is not a label value', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, nodeSelector: { pool: 'gpu pool' } });
    }, `${VALIDATION}[p/s] nodeSelector: label value 'gpu pool' of 'pool' is invalid; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  });

  test('fails on a fan-out beyond what an Indexed Job allows', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, fanOut: 200_000, fanOutParallelism: 10 });
    }, `${VALIDATION}[p/s] 'fanOut' must be a whole number from 1 to 100000, got 200000`);
  });

  test('fails on a Secret name that cannot exist', () => {
    expectFailure((app) => {
      const p = new Pipeline(app, 'p');
      new ContainerStep(p, 's', { image, secretVolumes: [{ secret: Secret.fromSecretName(p, 'S', 'Bad_Name'), mountPath: '/etc/s' }] });
    }, `${VALIDATION}[p/s] secret name 'Bad_Name' is invalid: use at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`);
  });

  test('fails on an enclosing construct id that makes the step name invalid', () => {
    expectFailure((app) => {
      new ContainerStep(new Construct(new Pipeline(app, 'p'), 'Tuning'), 'fit', { image });
    }, `${VALIDATION}[p/Tuning/fit] step name 'Tuning-fit', made of the construct ids below the pipeline, is not a valid name: `
      + 'use only lowercase letters, digits and \'-\', starting and ending with a letter or digit; rename the enclosing constructs');
  });

  test('fails on a label the coordinator relies on', () => {
    expectFailure((app) => new Pipeline(app, 'p', { labels: { 'mlops.cdk8s.io/pipeline': 'other' } }),
      '[p] label \'mlops.cdk8s.io/pipeline\' is set by cdk8s-mlops (the coordinator finds its Jobs by it); choose another key');
  });

  test('fails on durations that are not whole seconds, naming the prop', () => {
    expectFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, timeout: Duration.millis(1500) });
    }, `${VALIDATION}[p/s] 'timeout' must be a whole number of seconds from 1 to 31536000 (365 days), got 1.5s`);
    expectFailure((app) => new Pipeline(app, 'p', { runDeadline: Duration.millis(90_500) }),
      '[p] \'runDeadline\' must be a whole number of seconds from 1 to 31536000 (365 days), got 90.5s');
    expectFailure((app) => new Pipeline(app, 'p', { backend: new PlainBackend({ pollInterval: Duration.millis(500) }) }),
      '[p] PlainBackend: \'pollInterval\' must be a whole number of seconds from 1 to 31536000 (365 days), got 0.5s');
  });

  test('fails on a workspace size that is not a quantity, or a claim name that cannot exist', () => {
    expectFailure((app) => new Pipeline(app, 'p', { workspace: Workspace.claim({ size: Size.kibibytes(1536) }) }),
      '[p] workspace \'size\' must be a whole number of mebibytes from 1 to 1073741824 (1024Ti, more than any volume), got 1.5 MiB; e.g. Size.gibibytes(20)');
    expectFailure((app) => new Pipeline(app, 'p', { workspace: Workspace.fromClaimName('Shared Data') }),
      '[p] workspace claim name \'Shared Data\' is invalid: use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit');
  });
});
