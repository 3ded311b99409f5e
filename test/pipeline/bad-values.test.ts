import { Duration, Size } from 'cdk8s';
import { ConfigMap, Cpu, EnvValue, Secret } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ContainerStep, Dataset, Gpu, Pipeline, PlainBackend, Workspace, WorkspaceAccess } from '../../src';
import { verifyObjects } from '../../src/verify';
import { expectSynthFailure, synth, VALIDATION } from '../support/synth';

const image = 'busybox:1.36';
const SUBDOMAIN = 'use at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit';
const KEY = 'use 1 to 253 letters, digits, \'-\', \'_\' or \'.\' (not \'.\' or \'..\'), as the key appears in the data';

describe('secret references in env are checked like secret volumes', () => {
  test.each([
    ['an empty secret name', '', 'token', `env var 'TOKEN' reads secret '', which is not a valid name: ${SUBDOMAIN}`],
    ['a secret name Kubernetes refuses', 'Bad_Name', 'token', `env var 'TOKEN' reads secret 'Bad_Name', which is not a valid name: ${SUBDOMAIN}`],
    ['an empty key', 'creds', '', `env var 'TOKEN' reads key '' of secret 'creds', which is not a valid key: ${KEY}`],
    ['a key with a space and a path', 'creds', 'bad key/../x', `env var 'TOKEN' reads key 'bad key/../x' of secret 'creds', which is not a valid key: ${KEY}`],
  ])('fails on %s', (_case, name, key, message) => {
    expectSynthFailure((app) => {
      const p = new Pipeline(app, 'p');
      const secret = Secret.fromSecretName(p, 'S', name);
      new ContainerStep(p, 's', { image, env: { TOKEN: EnvValue.fromSecretValue({ secret, key }) } });
    }, `${VALIDATION}[p/s] ${message}`);
  });
});

describe('values Kubernetes accepts but that are mistakes', () => {
  test('fails on a coordinator image that is not an image reference', () => {
    expectSynthFailure((app) => new Pipeline(app, 'p', { backend: new PlainBackend({ coordinatorImage: 'Not An Image; rm -rf /' }) }),
      '[p] PlainBackend \'coordinatorImage\': image \'Not An Image; rm -rf /\' is not a valid image reference; '
      + 'use [registry/]repository[:tag][@sha256:digest] with a lowercase repository');
  });

  test('fails on a run deadline beyond a year (1e20 s is beyond int64)', () => {
    expectSynthFailure((app) => new Pipeline(app, 'p', { runDeadline: Duration.seconds(1e20) }),
      '[p] \'runDeadline\' must be a whole number of seconds from 1 to 31536000 (365 days), got 100000000000000000000s');
  });

  test('fails on a step timeout beyond a year and a TTL beyond int32', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, timeout: Duration.days(400) });
    }, `${VALIDATION}[p/s] 'timeout' must be a whole number of seconds from 1 to 31536000 (365 days), got 34560000s`);
    expectSynthFailure((app) => new Pipeline(app, 'p', { ttlAfterFinished: Duration.seconds(2 ** 31) }),
      '[p] \'ttlAfterFinished\' must be a whole number of seconds from 1 to 31536000 (365 days), got 2147483648s');
  });

  test('fails on 1e21 GPUs, which would render as 1e+21', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, gpu: Gpu.nvidia(1e21) });
    }, `${VALIDATION}[p/s] gpu count must be a whole number from 1 to 256 (no node offers one pod more), got 1e+21`);
  });

  test('fails on memory of 1e9 Ti and cpu of 2048 cores', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', {
        image,
        resources: { memory: { request: Size.tebibytes(1e9), limit: Size.tebibytes(1e9) }, cpu: { request: Cpu.units(1), limit: Cpu.units(2048) } },
      });
    }, `${VALIDATION}[p/s] 'resources.cpu.limit' (2048) is more than 1024 cores, more than any node offers; check the unit\n  `
      + '[p/s] \'resources.memory.request\' (1024000000000Gi) is more than 64Ti, more than any node offers; check the unit\n  '
      + '[p/s] \'resources.memory.limit\' (1024000000000Gi) is more than 64Ti, more than any node offers; check the unit');
  });

  test('fails on a workspace of 1e12 Ti', () => {
    expectSynthFailure((app) => new Pipeline(app, 'p', { workspace: Workspace.claim({ size: Size.tebibytes(1e12) }) }),
      '[p] workspace \'size\' must be a whole number of mebibytes from 1 to 1073741824 (1024Ti, more than any volume), '
      + 'got 1048576000000000000 MiB; e.g. Size.gibibytes(20)');
  });

  test('fails on a memory request and limit of 0Mi: a zero limit is no limit', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, resources: { memory: { request: Size.mebibytes(0), limit: Size.mebibytes(0) } } });
    }, `${VALIDATION}[p/s] 'resources.memory.limit' is 0, which Kubernetes reads as no limit at all; set a positive limit, or leave memory out for the defaults`);
  });

  test('fails on a maxParallel beyond what the coordinator takes', () => {
    expectSynthFailure((app) => new Pipeline(app, 'p', { maxParallel: 1e21 }),
      '[p] \'maxParallel\' must be a whole number from 1 to 10000, got 1e+21');
  });
});

describe('secret mount paths are compared after normalizing, in both directions', () => {
  test.each([
    ['/', '\'/\' overlaps /tmp'],
    ['/mnt', '\'/mnt\' overlaps /mnt/workspace'],
    ['/./tmp', '\'/./tmp\' (/tmp) overlaps /tmp'],
    ['//mnt/workspace', '\'//mnt/workspace\' (/mnt/workspace) overlaps /mnt/workspace'],
  ])('fails on a secret mounted at %s', (mountPath, overlap) => {
    expectSynthFailure((app) => {
      const p = new Pipeline(app, 'p');
      new ContainerStep(p, 's', { image, secretVolumes: [{ secret: Secret.fromSecretName(p, 'S', 'creds'), mountPath }] });
    }, `${VALIDATION}[p/s] secret volume mountPath ${overlap}, which every step needs; mount it elsewhere, e.g. /etc/secrets/<name>`);
  });

  test('fails on one secret volume inside another', () => {
    expectSynthFailure((app) => {
      const p = new Pipeline(app, 'p');
      const secret = Secret.fromSecretName(p, 'S', 'creds');
      new ContainerStep(p, 's', { image, secretVolumes: [{ secret, mountPath: '/etc/creds/db' }, { secret, mountPath: '/etc/creds' }] });
    }, `${VALIDATION}[p/s] secret volume mountPath '/etc/creds' overlaps another secret volume at '/etc/creds/db'; give each its own path, neither inside the other`);
  });
});

describe('wiring and names', () => {
  test('fails on an input that is not a declared output of its producer', () => {
    expectSynthFailure((app) => {
      const p = new Pipeline(app, 'p', { defaults: { image } });
      const a = new ContainerStep(p, 'a', { outputs: { raw: Dataset } });
      new ContainerStep(p, 'b', { inputs: { raw: new Dataset(a, '../../../../etc') } });
    }, `${VALIDATION}[p/b] input 'raw' reads '../../../../etc' of p/a, which is not one of its declared outputs; `
      + 'declare it on that step (outputs: { name: Dataset }) and pass step.outputs.name');
  });

  test('fails on two pipelines with the same name and namespace in one app', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(new Construct(app, 'team-a'), 'churn'), 's', { image });
      new ContainerStep(new Pipeline(new Construct(app, 'team-b'), 'churn'), 's', { image });
    }, `${VALIDATION}[team-b/churn] pipeline 'churn' in namespace 'default' is also defined at team-a/churn: `
      + 'their Jobs, Role and claim would have the same names and overwrite each other; give one of them another id or namespace');
  });

  test('two pipelines with the same name in different namespaces are fine', () => {
    const { objects } = synth((app) => {
      new ContainerStep(new Pipeline(new Construct(app, 'team-a'), 'churn', { namespace: 'a' }), 's', { image });
      new ContainerStep(new Pipeline(new Construct(app, 'team-b'), 'churn', { namespace: 'b' }), 's', { image });
    });
    expect(new Set(objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.namespace))).toEqual(new Set(['a', 'b']));
  });

  test.each(['batch.kubernetes.io/job-name', 'kubernetes.io/team', 'k8s.io/team', 'node.k8s.io/pool'])('fails on the pod label %s, in a prefix Kubernetes owns', (key) => {
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    expectSynthFailure((app) => new Pipeline(app, 'p', { labels: { [key]: 'x' } }),
      `[p] label '${key}' uses the prefix '${prefix}', which Kubernetes reserves for its own components `
      + '(the Job controller sets batch.kubernetes.io/ labels on every pod); use a prefix of your own, e.g. example.com/');
  });

  test('app.kubernetes.io/ labels are the users\' own and pass', () => {
    const { objects } = synth((app) => new ContainerStep(new Pipeline(app, 'p', { labels: { 'app.kubernetes.io/name': 'churn' } }), 's', { image }));
    expect(objects.every((o) => o.metadata.labels['app.kubernetes.io/name'] === 'churn')).toBe(true);
  });

  test('fails on an empty step id, naming the scope', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), '', { image });
    }, '[p] step id \'\' is not a valid name: it is empty; use lowercase letters, digits and \'-\', starting and ending with a letter or digit');
  });

  test('fails on retries given as a string, saying its type', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, retries: '3' as unknown as number });
    }, `${VALIDATION}[p/s] 'retries' must be a whole number from 0 to 100, got string '3'`);
  });

  // cdk8s's Duration refuses a negative amount in the user's own call, before any construct
  // of this library exists: there is no path to name, and nothing is written.
  test('a negative timeout is refused by cdk8s itself at the user\'s call', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, timeout: Duration.seconds(-60) });
    }, 'Duration amounts cannot be negative. Received: -60');
  });

  test('fails on a timeout that is not a Duration, with its path', () => {
    expectSynthFailure((app) => {
      new ContainerStep(new Pipeline(app, 'p'), 's', { image, timeout: -60 as unknown as Duration });
    }, `${VALIDATION}[p/s] 'timeout' must be a Duration such as Duration.minutes(30), got -60`);
  });
});

describe('warnings: legal settings that do not do what they say, printed at synth and kept in pipeline.warnings', () => {
  function synthWarnings(build: (app: import('cdk8s').App) => Pipeline): { warnings: string[]; printed: string } {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    let pipeline!: Pipeline;
    try {
      synth((app) => {
        pipeline = build(app);
      });
    } finally {
      spy.mockRestore();
    }
    return { warnings: pipeline.warnings, printed: writes.join('') };
  }

  test('a poll interval longer than the run deadline', () => {
    const { warnings, printed } = synthWarnings((app) => {
      const p = new Pipeline(app, 'p', { runDeadline: Duration.minutes(10), backend: new PlainBackend({ pollInterval: Duration.minutes(15) }) });
      new ContainerStep(p, 's', { image });
      return p;
    });
    const warning = '\'pollInterval\' (900s) is longer than \'runDeadline\' (600s): the coordinator looks at the Jobs only once '
      + 'before the run is stopped; poll more often or raise the deadline';
    expect(warnings).toEqual([warning]);
    expect(printed).toBe(`[p] warning: ${warning}\n`);
  });

  test('a run deadline shorter than a step\'s timeout', () => {
    const { warnings, printed } = synthWarnings((app) => {
      const p = new Pipeline(app, 'p', { runDeadline: Duration.hours(1) });
      new ContainerStep(p, 'train', { image, timeout: Duration.hours(2) });
      return p;
    });
    const warning = 'step \'train\' has a timeout of 7200s, longer than the run deadline of 3600s, which stops it first; '
      + 'raise runDeadline or lower the timeout';
    expect(warnings).toEqual([warning]);
    expect(printed).toBe(`[p] warning: ${warning}\n`);
  });

  test('a ReadWriteMany workspace with no storage class', () => {
    const { warnings, printed } = synthWarnings((app) => {
      const p = new Pipeline(app, 'p', { workspace: Workspace.claim({ access: WorkspaceAccess.READ_WRITE_MANY }) });
      new ContainerStep(p, 's', { image, outputs: { out: Dataset } });
      return p;
    });
    const warning = 'the workspace is ReadWriteMany but names no storageClassName: the cluster\'s default class is usually block storage, '
      + 'which cannot serve ReadWriteMany, and the claim would stay Pending; set storageClassName to an RWX class (NFS, CephFS, EFS, Filestore)';
    expect(warnings).toEqual([warning]);
    expect(printed).toBe(`[p] warning: ${warning}\n`);
  });
});

describe('env read from other objects', () => {
  // The name and key are read from the rendered valueFrom, never by instanceof on
  // cdk8s-plus classes, so values built with another cdk8s-plus major work the same.
  test('a ConfigMap key in env is declared external like a Secret key, so verify finds no dangling reference', () => {
    const { objects } = synth((app) => {
      const p = new Pipeline(app, 'p');
      const config = ConfigMap.fromConfigMapName(p, 'Config', 'train-settings');
      const secret = Secret.fromSecretName(p, 'S', 'creds');
      new ContainerStep(p, 's', { image, env: { MODE: EnvValue.fromConfigMap(config, 'mode'), TOKEN: EnvValue.fromSecretValue({ secret, key: 'token' }) } });
    });
    const job = objects.find((o) => o.kind === 'Job' && o.metadata.labels['mlops.cdk8s.io/step'] === 's')!;
    expect(job.metadata.annotations['mlops.cdk8s.io/external-refs']).toBe('secret/creds,configmap/train-settings');
    expect(verifyObjects(objects).problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  test('fails on a ConfigMap key Kubernetes refuses', () => {
    expectSynthFailure((app) => {
      const p = new Pipeline(app, 'p');
      new ContainerStep(p, 's', { image, env: { MODE: EnvValue.fromConfigMap(ConfigMap.fromConfigMapName(p, 'C', 'settings'), '../mode') } });
    }, `${VALIDATION}[p/s] env var 'MODE' reads key '../mode' of config map 'settings', which is not a valid key: ${KEY}`);
  });
});
