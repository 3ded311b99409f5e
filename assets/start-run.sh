#!/bin/bash
# cdk8s-mlops run prelude, for pipelines with a schedule or run on demand: creates this run's
# step Jobs from the templates in the coordinator's ConfigMap, then hands over to
# coordinate.sh. The contract is docs/schedules.md.
#
# A run is one coordinator Job, made by the pipeline's CronJob (on schedule, or by
# `kubectl create job --from=cronjob/<pipeline> <run>`); its name is the run id. The run's
# Job names derive from it alone, so creating them is idempotent: a restarted coordinator,
# or a second pod of the same Job, gets AlreadyExists and coordinates the same Jobs.
set -euo pipefail

ns="${MLOPS_NAMESPACE:?}"
# The pod's labels batch.kubernetes.io/job-name and batch.kubernetes.io/controller-uid
# (Kubernetes >= 1.27), read through the downward API.
run="${MLOPS_SELF:?}"
uid="${MLOPS_RUN_UID:?}"
templates="${MLOPS_RUN_TEMPLATES:?}"
plan="${MLOPS_PLAN:?}"
poll="${MLOPS_POLL_SECONDS:?}"
work="${HOME:?}/run"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }
trap 'say "terminated"; exit 143' TERM INT

if ! [[ "$poll" =~ ^[1-9][0-9]*$ ]]; then die "MLOPS_POLL_SECONDS must be a whole number of at least 1, got '$poll'"; fi
[[ -r "$templates" && -r "$plan" ]] || die "cannot read the run templates at $templates or the plan at $plan"
mkdir -p "$work"

# Step Jobs of this run are <pipeline>-<step>-<8 hex of sha256(run id)>; their artifacts
# live under <workspace>/<pipeline>/runs/<run id>/. Steps reused across runs keep the
# content-hash name and folder they were synthesized with.
hash=$(printf '%s' "$run" | sha256sum | cut -c1-8)
sed -e "s/@@run-hash@@/$hash/g" "$plan" > "$work/plan"
# The run's own Jobs carry its id and an owner reference to its coordinator Job, so that
# deleting the run (the CronJob's history limit, kubectl delete) deletes them with it. So
# does the run's grant (a Role and RoleBinding letting its gates patch their own Jobs, by
# name), created first: a binding is checked against its Role, which must exist.
sed -e "s/@@run-hash@@/$hash/g" -e "s/@@run@@/$run/g" "$templates" \
  | jq -c --arg run "$run" --arg uid "$uid" '
      def owned: .metadata.labels["mlops.cdk8s.io/run"] = $run
        | .metadata.ownerReferences = [{apiVersion: "batch/v1", kind: "Job", name: $run, uid: $uid}];
      def mine: owned | .spec.template.metadata.labels["mlops.cdk8s.io/run"] = $run;
      {apiVersion: "v1", kind: "List", items: ([(.grants // [])[] | owned] + [.run[] | mine] + .shared)}' > "$work/jobs.json" \
  || die "the run templates at $templates are not the JSON the backend writes"

what="$(jq '[.items[] | select(.kind == "Job")] | length' "$work/jobs.json") Jobs"
if jq -e 'any(.items[]; .kind == "Role")' "$work/jobs.json" >/dev/null; then what+=" and the Role its gates and values reporters write with"; fi
say "starting run $run of pipeline ${MLOPS_PIPELINE:?} in namespace $ns: $what"
while :; do
  # One request per Job; Jobs that exist already are reported as AlreadyExists and kept.
  # --validate=false: the templates were checked against the schema at synth, and kubectl
  # would otherwise download the cluster's OpenAPI document on every run.
  if out=$(kubectl create -f "$work/jobs.json" -n "$ns" --validate=false -o name 2>&1 </dev/null); then
    say "created the run's Jobs"
    break
  fi
  failures=$(grep -v -e '^job\.batch/' -e '^role\.rbac\.authorization\.k8s\.io/' -e '^rolebinding\.rbac\.authorization\.k8s\.io/' -e '(AlreadyExists)' <<<"$out" || true)
  if [[ -z "$failures" ]]; then
    say "created the run's Jobs ($(grep -c '(AlreadyExists)' <<<"$out") existed already: a restarted coordinator, or a Job reused across runs)"
    break
  fi
  if grep -q '(Forbidden)' <<<"$failures"; then
    printf 'error: the coordinator may not create the run'"'"'s objects (its Role needs create on batch/jobs, and with gates on rbac.authorization.k8s.io roles and rolebindings): %s\n' "$failures" >&2
    exit 5
  fi
  say "warning: creating the run's Jobs failed, trying again in ${poll}s: $failures"
  sleep "$poll"
done

MLOPS_PLAN="$work/plan" exec /bin/bash "$(dirname "$0")/coordinate.sh"
