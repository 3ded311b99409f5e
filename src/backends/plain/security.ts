import type * as k8s from './k8s-types';
import type { StepSecurity } from '../../model/container-spec';

/**
 * Pod- and container-level security contexts meeting the Pod Security Standards
 * "restricted" profile unless `security` loosens them on purpose.
 */
export function podSecurityContext(security: Required<StepSecurity>): k8s.PodSecurityContext {
  return {
    runAsNonRoot: security.runAsNonRoot,
    runAsUser: security.user,
    runAsGroup: security.group,
    // The workspace volume is owned by this group so every step can write its outputs.
    fsGroup: security.group,
    // Without it the kubelet re-chowns the whole workspace, every file, at every pod start.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(security: Required<StepSecurity>): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    runAsNonRoot: security.runAsNonRoot,
  };
}

/** The restricted profile as the coordinator runs it: the kubectl image's nonroot uid. */
export const COORDINATOR_SECURITY: Required<StepSecurity> = {
  user: 65532,
  group: 65532,
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
};
