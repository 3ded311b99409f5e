import { verifyObjects, VerifyOptions } from '../../src/verify';
import { find, Obj, serving, validSet } from './fixtures';

function problems(objects: Obj[], options: VerifyOptions = {}) {
  return verifyObjects(objects, options).problems.map((p) => ({ object: p.object, path: p.path, message: p.message, severity: p.severity }));
}

const D = 'Deployment/ml/churn-serve';
const SERVER = '/spec/template/spec/containers/0';

describe('semantic checks', () => {
  test('the valid fixture has no problem at all', () => {
    expect(problems(validSet())).toEqual([]);
  });

  test('a Service selector that matches no pod template names the closest one', () => {
    const set = validSet();
    find(set, 'Service', 'churn-serve').spec.selector = { 'app.kubernetes.io/name': 'churn-server' };
    expect(problems(set)).toEqual([{
      object: 'Service/ml/churn-serve',
      path: '/spec/selector',
      severity: 'error',
      message: 'Service/ml/churn-serve: selector app.kubernetes.io/name=churn-server at /spec/selector matches no pod template in namespace ml (closest: Deployment churn-serve has app.kubernetes.io/name=churn-serve,mlops.cdk8s.io/pipeline=churn); set it to labels of the pod template of the Deployment, StatefulSet or Job it should route to',
    }]);
  });

  test('a selector only matches within its namespace', () => {
    const set = validSet();
    find(set, 'Service', 'churn-serve').metadata.namespace = 'other';
    expect(problems(set).map((p) => [p.object, p.path])).toEqual([['Service/other/churn-serve', '/spec/selector']]);
  });

  test('a Deployment whose selector misses its own template labels', () => {
    const set = validSet();
    find(set, 'Deployment', 'churn-serve').spec.selector.matchLabels = { app: 'serve' };
    const found = problems(set);
    expect(found[0]).toEqual({
      object: D, path: '/spec/selector', severity: 'error',
      message: `${D}: selector app=serve at /spec/selector does not match its own pod template labels (app.kubernetes.io/name=churn-serve,mlops.cdk8s.io/pipeline=churn); make every selector label also a label of spec.template.metadata.labels`,
    });
  });

  test('a PDB selecting nothing', () => {
    const set = validSet();
    find(set, 'PodDisruptionBudget', 'churn-serve').spec.selector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] };
    expect(problems(set)).toEqual([{
      object: 'PodDisruptionBudget/ml/churn-serve', path: '/spec/selector', severity: 'error',
      message: 'PodDisruptionBudget/ml/churn-serve: selector tier In (web) at /spec/selector matches no pod template in namespace ml; set it to the pod template labels of the workload it protects',
    }]);
  });

  test('an HPA whose target does not exist', () => {
    const set = validSet();
    find(set, 'HorizontalPodAutoscaler', 'churn-serve').spec.scaleTargetRef.name = 'churn-server';
    expect(problems(set)).toEqual([{
      object: 'HorizontalPodAutoscaler/ml/churn-serve', path: '/spec/scaleTargetRef/name', severity: 'error',
      message: 'HorizontalPodAutoscaler/ml/churn-serve: scaleTargetRef Deployment "churn-server" at /spec/scaleTargetRef does not exist in namespace ml; use one of: churn-serve',
    }]);
  });

  test('an HPA target that cannot scale, and a target with fixed replicas', () => {
    const set = validSet();
    find(set, 'Deployment', 'churn-serve').spec.replicas = 2;
    expect(problems(set)).toEqual([{
      object: D, path: '/spec/replicas', severity: 'warning',
      message: `${D}: spec.replicas is set although HorizontalPodAutoscaler/ml/churn-serve scales it, so every kubectl apply resets the replica count; omit spec.replicas on autoscaled workloads`,
    }]);
    find(set, 'HorizontalPodAutoscaler', 'churn-serve').spec.scaleTargetRef = { apiVersion: 'batch/v1', kind: 'Job', name: 'x' };
    expect(problems(set).map((p) => p.message)).toEqual([
      'HorizontalPodAutoscaler/ml/churn-serve: scaleTargetRef kind "Job" at /spec/scaleTargetRef/kind cannot be scaled; target a Deployment, StatefulSet or ReplicaSet',
    ]);
  });

  describe('dangling references', () => {
    test('a Secret in env', () => {
      const set = validSet();
      delete find(set, 'Deployment', 'churn-serve').metadata.annotations;
      expect(problems(set)).toEqual([{
        object: D, path: `${SERVER}/env/0/valueFrom/secretKeyRef/name`, severity: 'error',
        message: `${D}: Secret "ml-credentials" referenced at ${SERVER}/env/0/valueFrom/secretKeyRef/name is not created by these manifests; create the Secret, or declare it external: annotate Deployment churn-serve with mlops.cdk8s.io/external-refs: "secret/ml-credentials", or pass external.secrets: ["ml/ml-credentials"]`,
      }]);
    });

    test('declared external by option, by namespaced option, or in the pod template', () => {
      const set = validSet();
      const d = find(set, 'Deployment', 'churn-serve');
      delete d.metadata.annotations;
      expect(problems(set, { external: { secrets: ['ml-credentials'] } })).toEqual([]);
      expect(problems(set, { external: { secrets: ['ml/ml-credentials'] } })).toEqual([]);
      expect(problems(set, { external: { secrets: ['other/ml-credentials'] } })).toHaveLength(1);
      d.spec.template.metadata.annotations['mlops.cdk8s.io/external-refs'] = 'secret/ml-credentials';
      expect(problems(set)).toEqual([]);
    });

    test('a declaration on one workload does not cover another', () => {
      const set = validSet();
      const job = find(set, 'Job', 'churn-train-0a1b2c3d');
      job.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: 'ml-credentials' } }];
      expect(problems(set).map((p) => [p.object, p.path])).toEqual([
        ['Job/ml/churn-train-0a1b2c3d', '/spec/template/spec/containers/0/envFrom/0/secretRef/name'],
      ]);
    });

    test('an optional Secret is not required', () => {
      const set = validSet();
      find(set, 'Job', 'churn-train-0a1b2c3d').spec.template.spec.containers[0].envFrom = [{ secretRef: { name: 'extra', optional: true } }];
      expect(problems(set)).toEqual([]);
    });

    test('a PVC, a ConfigMap, an image pull Secret and a ServiceAccount', () => {
      const set = validSet().filter((o) => !(o.kind === 'PersistentVolumeClaim' || (o.kind === 'ConfigMap' && o.metadata.name === 'churn-serve-config')));
      const dep = find(set, 'Deployment', 'churn-serve');
      dep.spec.template.spec.imagePullSecrets = [{ name: 'registry' }];
      dep.spec.template.spec.serviceAccountName = 'serve';
      dep.spec.template.spec.volumes.push({ name: 'cfg', configMap: { name: 'serve-files' } });
      const found = problems(set).filter((p) => p.object === D);
      expect(found.map((p) => [p.path, p.message.slice(0, p.message.indexOf(';'))])).toEqual([
        ['/spec/template/spec/serviceAccountName', `${D}: ServiceAccount "serve" referenced at /spec/template/spec/serviceAccountName is not created by these manifests`],
        ['/spec/template/spec/imagePullSecrets/0/name', `${D}: Secret "registry" referenced at /spec/template/spec/imagePullSecrets/0/name is not created by these manifests`],
        ['/spec/template/spec/volumes/0/persistentVolumeClaim/claimName', `${D}: PersistentVolumeClaim "churn-workspace" referenced at /spec/template/spec/volumes/0/persistentVolumeClaim/claimName is not created by these manifests`],
        ['/spec/template/spec/volumes/1/configMap/name', `${D}: ConfigMap "serve-files" referenced at /spec/template/spec/volumes/1/configMap/name is not created by these manifests`],
        [`${SERVER}/envFrom/0/configMapRef/name`, `${D}: ConfigMap "churn-serve-config" referenced at ${SERVER}/envFrom/0/configMapRef/name is not created by these manifests`],
      ]);
      // Every step Job mounts the missing workspace claim too.
      expect(problems(set).filter((p) => p.path.endsWith('/claimName')).length).toBe(6);
      // The annotation declares several at once, with the pvc alias.
      dep.metadata.annotations['mlops.cdk8s.io/external-refs'] = 'secret/ml-credentials, secret/registry,serviceaccount/serve,pvc/churn-workspace,configmap/serve-files,configmap/churn-serve-config';
      expect(problems(set).filter((p) => p.object === D)).toEqual([]);
    });

    test('an unreadable external-refs entry is a warning', () => {
      const set = validSet();
      find(set, 'Deployment', 'churn-serve').metadata.annotations['mlops.cdk8s.io/external-refs'] = 'secret/ml-credentials,volume/x';
      expect(problems(set)).toEqual([{
        object: D, path: '/metadata/annotations/mlops.cdk8s.io~1external-refs', severity: 'warning',
        message: `${D}: cannot read "volume/x" in annotation mlops.cdk8s.io/external-refs at /metadata/annotations/mlops.cdk8s.io~1external-refs; write kind/name with kind one of secret, configmap, persistentvolumeclaim, serviceaccount, role, clusterrole`,
      }]);
    });

    test('built-ins need no declaration: the default ServiceAccount, kube-root-ca.crt, view', () => {
      const set = validSet();
      const spec = find(set, 'Deployment', 'churn-serve').spec.template.spec;
      spec.serviceAccountName = 'default';
      spec.volumes.push({ name: 'ca', configMap: { name: 'kube-root-ca.crt' } });
      set.push({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewers', namespace: 'ml' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'churn-coordinator' }],
      });
      expect(problems(set)).toEqual([]);
    });

    test('a RoleBinding to a missing Role and a missing ServiceAccount', () => {
      const set = validSet();
      const rb = find(set, 'RoleBinding', 'churn-coordinator');
      rb.roleRef.name = 'churn-coordinatr';
      rb.subjects[0].name = 'ghost';
      const found = problems(set).filter((p) => p.object === 'RoleBinding/ml/churn-coordinator');
      expect(found.map((p) => [p.path, p.message.slice(0, p.message.indexOf(';'))])).toEqual([
        ['/subjects/0/name', 'RoleBinding/ml/churn-coordinator: ServiceAccount "ghost" referenced at /subjects/0/name is not created by these manifests'],
        ['/roleRef/name', 'RoleBinding/ml/churn-coordinator: Role "churn-coordinatr" referenced at /roleRef/name is not created by these manifests'],
      ]);
    });
  });

  test('duplicate names per kind and namespace, naming both sources', () => {
    const set = [...validSet(), ...serving().filter((o) => o.kind === 'Service')];
    const sources = set.map((_, i) => `dist/app.k8s.yaml#${i + 1}`);
    const found = verifyObjects(set, { sources }).problems;
    expect(found).toEqual([{
      object: 'Service/ml/churn-serve', path: '/metadata/name', rule: 'duplicate', severity: 'error',
      message: `Service/ml/churn-serve: defined twice: dist/app.k8s.yaml#${set.length - 3} and dist/app.k8s.yaml#${set.length} both define it; rename one or delete the copy; kubectl apply would keep only the last one`,
      fix: 'rename one or delete the copy; kubectl apply would keep only the last one',
      source: `dist/app.k8s.yaml#${set.length}`,
    }]);
    // Same name, different kind or namespace: fine.
    const other = serving().filter((o) => o.kind === 'Service').map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'prod' } }));
    expect(problems([...validSet(), ...other]).filter((p) => p.path === '/metadata/name')).toEqual([]);
  });

  test('a probe naming a port the container does not have', () => {
    const set = validSet();
    find(set, 'Deployment', 'churn-serve').spec.template.spec.containers[0].readinessProbe.httpGet.port = 'htp';
    find(set, 'Deployment', 'churn-serve').spec.template.spec.containers[0].livenessProbe = { tcpSocket: { port: 'grpc' } };
    expect(problems(set).map((p) => [p.path, p.message])).toEqual([
      [`${SERVER}/livenessProbe/tcpSocket/port`, `${D}: port "grpc" at ${SERVER}/livenessProbe/tcpSocket/port names no port of container "server" (its named ports: http); add a port named "grpc" to the container, or use the port number`],
      [`${SERVER}/readinessProbe/httpGet/port`, `${D}: port "htp" at ${SERVER}/readinessProbe/httpGet/port names no port of container "server" (its named ports: http); add a port named "htp" to the container, or use the port number`],
    ]);
  });

  test('a Service targetPort naming a port the selected pods do not have', () => {
    const set = validSet();
    find(set, 'Service', 'churn-serve').spec.ports[0].targetPort = 'web';
    expect(problems(set)).toEqual([{
      object: 'Service/ml/churn-serve', path: '/spec/ports/0/targetPort', severity: 'error',
      message: 'Service/ml/churn-serve: targetPort "web" at /spec/ports/0/targetPort names no container port of Deployment churn-serve (its named ports: http); name a container port "web" or use the port number',
    }]);
  });

  test('a ClusterRoleBinding to a Role, with a subject lacking its namespace', () => {
    const set = validSet();
    set.push({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'wrong' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'churn-coordinator' },
      subjects: [{ kind: 'ServiceAccount', name: 'churn-coordinator' }],
    });
    expect(problems(set).filter((p) => p.object === 'ClusterRoleBinding/wrong').map((p) => p.message)).toEqual([
      'ClusterRoleBinding/wrong: a ClusterRoleBinding cannot refer to a Role at /roleRef/kind; use a RoleBinding, or refer to a ClusterRole',
      'ClusterRoleBinding/wrong: ServiceAccount subject "churn-coordinator" at /subjects/0 has no namespace; set subjects[].namespace',
    ]);
  });
});
