#!/bin/bash
# cdk8s-mlops gate: judges an evaluation's metrics against thresholds and writes the
# verdict on its own Job as the annotation mlops.cdk8s.io/verdict ("approved" or
# "rejected: <reason>"), which the coordinator reads (docs/coordinator-contract.md, kind gate).
# A rejection is a result: the script exits 0. Metrics that cannot be judged are a crash:
# exit 3, which the Job's podFailurePolicy fails at once (retrying cannot fix the file).
set -euo pipefail

metrics_dir="${MLOPS_INPUT_METRICS:?}"
thresholds="${MLOPS_GATE_THRESHOLDS:?}"
self="${MLOPS_SELF:?}"
ns="${MLOPS_NAMESPACE:?}"
baseline_file="${MLOPS_GATE_BASELINE:-}"
baseline_name="${MLOPS_GATE_BASELINE_NAME:-the baseline}"

crash() { printf 'gate: %s\n' "$*" >&2; exit 3; }

metrics="$metrics_dir/metrics.json"
[[ -f "$metrics" ]] || crash "$metrics is missing: the evaluation must write its metrics there as a JSON object"
jq -e 'type == "object"' "$metrics" >/dev/null 2>&1 || crash "$metrics is not a JSON object of metric names to numbers"

baseline='null'
# A registry baseline: the metrics recorded by the promotion of the highest integer version
# folder holding READY (assets/promote.sh); none before the first promotion.
baseline_registry="${MLOPS_GATE_BASELINE_REGISTRY:-}"
if [[ -n "$baseline_registry" ]]; then
  latest=
  for dir in "$baseline_registry"/*/; do
    v="${dir%/}"; v="${v##*/}"
    [[ "$v" =~ ^[0-9]+$ && -f "$baseline_registry/$v/READY" ]] || continue
    if [[ -z "$latest" ]] || (( 10#$v > 10#$latest )); then latest="$v"; fi
  done
  if [[ -n "$latest" ]]; then
    jq -e '.metrics | type == "object"' "$baseline_registry/$latest/lineage.json" >/dev/null 2>&1 \
      || crash "$baseline_registry/$latest/lineage.json has no 'metrics' object: version $latest was not published by a promotion"
    baseline="$(jq -c '.metrics' "$baseline_registry/$latest/lineage.json")"
    baseline_name="version $latest of $baseline_name"
  fi
fi
if [[ -n "$baseline_file" && -f "$baseline_file" ]]; then
  jq -e 'type == "object"' "$baseline_file" >/dev/null 2>&1 || crash "$baseline_file ($baseline_name) is not a JSON object of metric names to numbers"
  baseline="$(jq -c . "$baseline_file")"
fi

# Output: the verdict on line 1, a longer account on line 2.
read -r -d '' judge <<'JQ' || true
def num: (. * 1000000 | round) / 1000000;
def worse($op): if $op == ">=" then "<" else ">" end;
. as $m
| [$t[] | . as $th | ($m[$th.metric]) as $v
  | if ($v | type) != "number" then error("metrics.json has no number for '\($th.metric)' (got \($v | tojson))") else . end
  | if has("value") then
      {ok: (if .op == ">=" then $v >= .value else $v <= .value end),
       text: "\(.metric) \($v | num) \(if (if .op == ">=" then $v >= .value else $v <= .value end) then .op else worse(.op) end) \(.value | num)"}
    elif $b == null then {skipped: "\(.metric) (no baseline yet)"}
    elif ($b[.metric] | type) != "number" then {skipped: "\(.metric) (the baseline has no number for it)"}
    else ($b[.metric] | if $th.op == ">=" then . - $th.tolerance else . + $th.tolerance end) as $bound
      | {ok: (if .op == ">=" then $v >= $bound else $v <= $bound end),
         text: "\(.metric) \($v | num) \(if (if .op == ">=" then $v >= $bound else $v <= $bound end) then .op else worse(.op) end) baseline \($b[.metric] | num)\(if .tolerance > 0 then " \(if .op == ">=" then "-" else "+" end) \(.tolerance | num)" else "" end)"}
    end] as $r
| ([$r[] | select(.ok == false) | .text]) as $failed
| ($b == null and any($t[]; has("value") | not)) as $unjudged
| (if $unjudged then "no baseline yet: judged on absolute thresholds only"
   elif $b == null then "absolute thresholds only"
   else "compared with \($bname)" end) as $basis
| if ($t | length) == 0 then "rejected: no thresholds configured (a gate without thresholds never approves)"
  elif ($failed | length) > 0 then "rejected: \($failed | join("; "))\(if $unjudged then " (no baseline yet: absolute thresholds only)" else "" end)"
  else "approved" end,
  "\($basis); \([$r[] | .text // "skipped: \(.skipped)"] | join("; "))"
JQ

out="$(jq -r --argjson t "$thresholds" --argjson b "$baseline" --arg bname "$baseline_name" "$judge" "$metrics" 2>&1)" \
  || crash "cannot judge $metrics: ${out#jq: error (at *): }"
verdict="$(sed -n 1p <<<"$out")"
detail="$(sed -n 2p <<<"$out")"
printf 'verdict: %s\n%s\n' "$verdict" "$detail"

patch="$(jq -cn --arg v "$verdict" --arg d "$detail" \
  '{metadata: {annotations: {"mlops.cdk8s.io/verdict": $v, "mlops.cdk8s.io/verdict-detail": $d}}}')"
# Exit 2 on an API error: the Job retries the pod; a verdict is written at most once per run.
kubectl patch job "$self" -n "$ns" --type merge -p "$patch" >/dev/null || { echo "gate: cannot write the verdict on job $self" >&2; exit 2; }
