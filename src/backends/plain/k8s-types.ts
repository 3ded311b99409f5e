/*
 * The Kubernetes types the plain backend renders against: the API's own JSON shapes
 * (kubernetes-models, a dependency of this package), imported as types only, so a
 * misspelled or misplaced field fails `tsc` and nothing is loaded at run time. The
 * cdk8s-plus `k8s` bindings are not used here: users bring their own cdk8s-plus version,
 * or none.
 */
export type { IJobSpec as JobSpec } from 'kubernetes-models/batch/v1/JobSpec';
export type { IContainer as Container } from 'kubernetes-models/v1/Container';
export type { IEnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
export type { IPodSecurityContext as PodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
export type { IPersistentVolumeClaimSpec as PersistentVolumeClaimSpec } from 'kubernetes-models/v1/PersistentVolumeClaimSpec';
export type { ISecurityContext as SecurityContext } from 'kubernetes-models/v1/SecurityContext';
export type { IVolume as Volume } from 'kubernetes-models/v1/Volume';
export type { IVolumeMount as VolumeMount } from 'kubernetes-models/v1/VolumeMount';
export type { IPolicyRule as PolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
export type { IToleration as Toleration } from 'kubernetes-models/v1/Toleration';
