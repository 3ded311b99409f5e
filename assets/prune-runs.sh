#!/bin/bash
# cdk8s-mlops prune-runs: the last step of a run of a pipeline with keepArtifactsOfRuns
# (docs/schedules.md, "Old runs go away"). Deletes the artifact folders of older runs,
# keeping the MLOPS_KEEP_RUNS most recently changed, and never the folder of a run whose
# coordinator Job has not finished (still going, or waiting under FORBID). A failed list
# deletes nothing: it cannot tell which runs are still going. Exits 0 either way: keeping
# a folder too many is no reason to fail the run.
set -uo pipefail

root="${MLOPS_RUNS_DIR:?}"
ns="${MLOPS_NAMESPACE:?}"
pipeline="${MLOPS_PIPELINE:?}"
keep="${MLOPS_KEEP_RUNS:?}"

[[ -d "$root" ]] || { echo "no run folders under $root"; exit 0; }
# One list call (--chunk-size=0: no paging), the pipeline's coordinator Jobs: one per run.
if ! list=$(kubectl get jobs -n "$ns" -l "mlops.cdk8s.io/pipeline=$pipeline,mlops.cdk8s.io/role=coordinator" --chunk-size=0 -o json); then
  echo "warning: could not list the pipeline's runs; deleting nothing this time"; exit 0
fi
# Finished: a Complete or Failed condition with status "True" (pkg/controller/job/job_controller.go).
active=$(jq -r '.items[] | select([.status.conditions[]? | select((.type == "Complete" or .type == "Failed") and .status == "True")] == []) | .metadata.name' <<<"$list")
n=0
while IFS= read -r run; do
  n=$((n + 1))
  if (( n <= keep )); then continue; fi
  if grep -qxF -- "$run" <<<"$active"; then echo "kept $run: the run is still going"; continue; fi
  if rm -rf -- "${root:?}/$run"; then echo "removed $run"; else echo "warning: could not remove $run"; fi
done < <(ls -1t "$root")
