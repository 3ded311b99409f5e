/**
 * An RBAC rule of the promotion's Role, as Kubernetes' `PolicyRule` (declared here: the
 * kubernetes-models types are a build-time dependency that users do not install).
 */
export interface PromotionRbacRule {
  /** API groups: `['apps']`; `''` is the core group. */
  readonly apiGroups: readonly string[];
  /** Resources: `['deployments']`. */
  readonly resources: readonly string[];
  /** Verbs: `['get', 'patch']`. */
  readonly verbs: readonly string[];
  /**
   * The objects the rule is limited to.
   * @default - every object of those resources in the namespace
   */
  readonly resourceNames?: readonly string[];
}

/**
 * One thing to do once a new version is published: restart a Deployment, call a server's
 * load API, ... The promotion runs `command` after the rename and `READY`, with
 * `MLOPS_MODEL_NAME`, `MLOPS_VERSION` and `MLOPS_VERSION_PATH` (the version's folder in the
 * registry) in its environment, as the promotion's ServiceAccount, which is granted exactly
 * `rules` in the pipeline's namespace. A failed command fails the promotion Job, whose retry
 * publishes nothing new and runs every hook again: hooks must be safe to repeat.
 */
export interface PromotionHook {
  /** What it does, for the log: `restart deployment/churn-server`. */
  readonly description: string;
  /** The command and its arguments, run without a shell on the promotion's image. */
  readonly command: readonly string[];
  /** The least the command needs from the API; `[]` when it needs nothing. */
  readonly rules: readonly PromotionRbacRule[];
}

/**
 * Something a promotion tells about a new version: a `ModelServer`, or any hook from
 * `PromotionHooks`. A server that finds new versions by itself (TensorFlow Serving polls its
 * folder) or is pinned to a version returns no hook.
 */
export interface IPromotionListener {
  /** The model it serves; a promotion of another model refuses it. Undefined: any model. */
  readonly servedModel?: string;
  /** What the promotion runs after publishing a version. */
  promotionHooks(): PromotionHook[];
}

/** Hooks for `Promote`'s `notify`. */
export class PromotionHooks {
  /**
   * `kubectl rollout restart deployment/<name>`: new pods load the new version, and the
   * rolling update keeps every ready pod until its replacement is ready. kubectl GETs the
   * Deployment, then PATCHes its pod template's `kubectl.kubernetes.io/restartedAt`
   * annotation (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go), so
   * the grant is `get` and `patch` on that one Deployment.
   */
  public static rolloutRestart(deployment: string): IPromotionListener & PromotionHook {
    return PromotionHooks.custom({
      description: `restart deployment/${deployment}`,
      command: ['kubectl', 'rollout', 'restart', `deployment/${deployment}`],
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: [deployment] }],
    });
  }

  /** Any command, with the RBAC rules it needs. */
  public static custom(hook: PromotionHook): IPromotionListener & PromotionHook {
    return { ...hook, promotionHooks: () => [hook] };
  }
}
