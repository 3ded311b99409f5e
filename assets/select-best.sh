#!/bin/bash
# cdk8s-mlops sweep selection: ranks the trials of a sweep by one metric and copies the
# best trial's model into this step's model output, with a leaderboard beside it, and
# writes the winner as the step's values (best, best_trial, best_params) into $MLOPS_VALUES,
# which the library's values reporter, the pod's main container, puts on the Job.
# Runs after every trial is final (trigger rule all-done). Which trials completed comes
# from the coordinator (MLOPS_UPSTREAM_STATES, docs/coordinator-contract.md), not from the
# files: a trial that failed after writing metrics.json does not count. Ties go to the
# lowest trial index. Exit 1 (a step failure, with the reason) when more trials failed than
# the budget, when none completed, or when a completed trial's metrics.json has no number
# for the metric.
set -euo pipefail

models="${MLOPS_INPUT_MODELS:?}"
metrics="${MLOPS_INPUT_METRICS:?}"
model_out="${MLOPS_OUTPUT_MODEL:?}"
board_out="${MLOPS_OUTPUT_LEADERBOARD:?}"
values_out="${MLOPS_VALUES:?}"
metric="${MLOPS_SELECT_METRIC:?}"
direction="${MLOPS_SELECT_DIRECTION:?}"
budget="${MLOPS_SELECT_FAILURE_BUDGET:?}"
trials="${MLOPS_SELECT_TRIALS:?}"
states="${MLOPS_UPSTREAM_STATES:?the coordinator wrote no upstream states into this pod (annotation mlops.cdk8s.io/upstream-states)}"

fail() { printf 'select: %s\n' "$*" >&2; exit 1; }

count="$(jq -r 'length' <<<"$trials")"
rows=()
for (( i = 0; i < count; i++ )); do
  step="$(jq -r --argjson i "$i" '.[$i].step' <<<"$trials")"
  state="$(jq -r --arg s "$step" '.[$s] // "missing"' <<<"$states")"
  file="$metrics/$i/metrics.json"
  value=null
  if [[ "$state" == complete ]]; then
    [[ -f "$file" ]] || fail "trial $i ($step) completed but wrote no $file"
    value="$(jq -c --arg m "$metric" '.[$m]' "$file" 2>/dev/null)" || fail "trial $i ($step) wrote $file, which is not a JSON object of metric names to numbers"
    [[ "$(jq -r 'type' <<<"$value")" == number ]] || fail "trial $i ($step) completed but $file has no number for '$metric' (got $value)"
  fi
  rows+=("$(jq -cn --argjson i "$i" --arg state "$state" --argjson v "$value" --argjson t "$trials" \
    '{trial: $i, step: $t[$i].step, state: $state, params: $t[$i].params, value: $v}')")
done

# Best first: by the metric in the objective's direction, then by trial index.
read -r -d '' rank <<'JQ' || true
([.[] | select(.state == "complete")] | sort_by(if $dir == "maximize" then [-.value, .trial] else [.value, .trial] end)) as $done
| ([.[] | select(.state != "complete")]) as $lost
| {metric: $m, direction: $dir, failureBudget: $budget, winner: $done[0],
   trials: ([$done | to_entries[] | .value + {rank: (.key + 1)}] + $lost)}
JQ
board="$(printf '%s\n' "${rows[@]}" | jq -s --arg m "$metric" --arg dir "$direction" --argjson budget "$budget" "$rank")"

lost="$(jq '[.trials[] | select(.state != "complete")] | length' <<<"$board")"
if (( lost > budget )); then
  fail "$lost of $count trials did not complete, more than the failure budget of $budget: $(jq -r '[.trials[] | select(.state != "complete") | "\(.step) \(.state)"] | join(", ")' <<<"$board")"
fi
winner="$(jq -r '.winner.trial // empty' <<<"$board")"
[[ -n "$winner" ]] || fail "no trial completed; nothing to select"

# The outputs may hold a previous attempt's files: start them afresh.
rm -rf "${model_out:?}" "${board_out:?}"
mkdir -p "$model_out" "$board_out"
cp -R "$models/$winner/." "$model_out/"
printf '%s\n' "$board" > "$board_out/leaderboard.json"
cp "$metrics/$winner/metrics.json" "$board_out/metrics.json"
jq '.winner.value' <<<"$board" > "$values_out/best"
jq '.winner.trial' <<<"$board" > "$values_out/best_trial"
jq -c '.winner.params' <<<"$board" > "$values_out/best_params"

jq -r '"winner: trial \(.winner.trial) (\(.winner.step)) with \(.metric) \(.winner.value), \(.direction)d over \(.trials | map(select(.state == "complete")) | length) completed trials",
  (.trials[] | "  \(.rank // "-")\t\(.step)\t\(.state)\t\(.value // "-")\t\(.params | tojson)")' <<<"$board"
