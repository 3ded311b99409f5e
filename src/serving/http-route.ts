import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { GatewayReference } from './split';

/** On the HTTPRoute: the CRD it needs, since `kubectl apply` fails with "no matches for kind" without it. */
export const REQUIRES_CRD_ANNOTATION = 'mlops.cdk8s.io/requires-crd';
/** The CustomResourceDefinition an HTTPRoute needs, and where it comes from. */
export const HTTPROUTE_CRD = 'httproutes.gateway.networking.k8s.io (Gateway API v1.0 or later, standard channel: '
  + 'kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.0.0/standard-install.yaml), '
  + 'and a gateway controller';

/** A weighted backend of the route. */
export interface RouteBackend {
  readonly service: string;
  readonly weight: number;
}

/** Props of the route of a split. */
export interface HttpRouteProps {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly gateway: GatewayReference;
  readonly port: number;
  readonly backends: readonly RouteBackend[];
}

/**
 * A Gateway API `HTTPRoute` sending every request of the gateway to the split's two
 * Services with exact weights (`backendRefs[].weight`: each backend gets weight / sum of
 * the requests; gateway-api apis/v1/httproute_types.go, BackendRef). It is a custom
 * resource: the cluster needs the Gateway API CRDs and a controller implementing them.
 */
export function renderHttpRoute(scope: Construct, id: string, props: HttpRouteProps): void {
  const { name, namespace, sectionName } = props.gateway;
  new ApiObject(scope, id, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: props.name, labels: props.labels, annotations: { [REQUIRES_CRD_ANNOTATION]: HTTPROUTE_CRD } },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name, namespace, sectionName }],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: props.backends.map((b) => ({ kind: 'Service', name: b.service, port: props.port, weight: b.weight })),
      }],
    },
  });
}
