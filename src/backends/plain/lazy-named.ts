import { ApiObject, ApiObjectProps, Lazy } from 'cdk8s';
import type { Construct } from 'constructs';

/**
 * An ApiObject whose name is only known at synthesis, because it hashes the final spec.
 *
 * `metadata.name` resolves lazily, and so does `apiObject.name`, which cdk8s reads for
 * construct-metadata.json (how validation plugins map a problem to its construct path).
 */
export function lazilyNamedObject(scope: Construct, id: string, props: ApiObjectProps, name: () => string): ApiObject {
  const obj = new ApiObject(scope, id, { ...props, metadata: { ...props.metadata, name: Lazy.any({ produce: name }) } });
  Object.defineProperty(obj, 'name', { get: name, enumerable: true, configurable: true });
  return obj;
}
