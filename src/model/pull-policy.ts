/** When the kubelet pulls a step's image. */
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The policies Kubernetes accepts, for checking values that came around the types. */
export const IMAGE_PULL_POLICIES: readonly ImagePullPolicy[] = ['Always', 'IfNotPresent', 'Never'];

/**
 * The policy Kubernetes itself would pick for `image`: `Always` for a `:latest` tag or no
 * tag at all (a moving reference), `IfNotPresent` for any other tag or a digest. Written
 * out in the YAML so a reviewer sees it.
 *
 * Mirrors SetDefaults_Container in kubernetes/kubernetes pkg/apis/core/v1/defaults.go,
 * with the tag as parsers.ParseImageName (pkg/util/parsers/parsers.go) reads it: no tag
 * and no digest means `latest`.
 */
export function defaultPullPolicy(image: string): ImagePullPolicy {
  const [name, digest] = image.split('@');
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastPart.indexOf(':');
  const tag = colon >= 0 ? lastPart.slice(colon + 1) : digest === undefined ? 'latest' : '';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}
