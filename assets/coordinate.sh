#!/bin/bash
# cdk8s-mlops coordinator: un-suspends each step Job of a pipeline once every upstream
# Job is Complete. The contract is docs/ordering.md. All state is read back from the API
# on every poll, so a restarted coordinator carries on where the last one stopped.
set -euo pipefail

ns="${MLOPS_NAMESPACE:?}"
pipeline="${MLOPS_PIPELINE:?}"
self="${MLOPS_SELF:?}"
plan="${MLOPS_PLAN:?}"
poll="${MLOPS_POLL_SECONDS:?}"
deadline="${MLOPS_RUN_DEADLINE_SECONDS:-0}"
cap="${MLOPS_MAX_PARALLEL:-0}"

say() { printf '%s\n' "$*"; }
# Exit 2, not 3: the Job's podFailurePolicy retries it, whereas 3 means "the run failed".
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# kubectl exits 1 on every failure; only its message tells a refusal from an outage. A
# Forbidden or NotFound answer repeats on every call when the Role or its binding is gone or
# the namespace is wrong, so after max_denied of them in a row for lists, or for patches,
# the coordinator exits 5, which its podFailurePolicy turns into a failed Job at once.
# Server errors (5xx) and connection errors are retried on every poll until the run deadline.
max_denied=5
declare -A denied=([list]=0 [patch]=0)
kubectl_err="${HOME:-/tmp}/.coordinator-kubectl-stderr"
api_ok() { denied[$1]=0; }
api_failed() {
  local err re
  err=$(<"$kubectl_err")
  [[ -z "$err" ]] || printf '%s\n' "$err" >&2
  if [[ "$err" != *"Error from server (Forbidden)"* && "$err" != *"Error from server (NotFound)"* ]]; then
    denied[$1]=0
    return 0
  fi
  denied[$1]=$(( denied[$1] + 1 ))
  (( denied[$1] >= max_denied )) || return 0
  re='cannot ([a-z]+) resource "([a-z]+)" in API group "([a-z.]*)" in the namespace "([^"]+)"'
  if [[ "$err" =~ $re ]]; then
    printf "error: the coordinator's service account may not %s %s.%s in namespace %s (%s %s calls refused in a row); check that Role %s and RoleBinding %s exist in namespace %s and grant it: %s\n" \
      "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" "${denied[$1]}" "$1" "$self" "$self" "$ns" "$err" >&2
  else
    printf "error: %s %s calls in a row answered NotFound; a Job of the plan or the coordinator's own Job %s is gone from namespace %s: %s\n" "${denied[$1]}" "$1" "$self" "$ns" "$err" >&2
  fi
  exit 5
}
# As PID 1 bash ignores SIGTERM unless it traps it; without this a deleted pod waits out its grace period.
trap 'say "terminated"; exit 143' TERM INT

for n in "$poll" "$deadline" "$cap"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "MLOPS_POLL_SECONDS, MLOPS_RUN_DEADLINE_SECONDS and MLOPS_MAX_PARALLEL must be whole numbers, got '$n'"
done
(( poll > 0 )) || die "MLOPS_POLL_SECONDS must be at least 1"
[[ -r "$plan" ]] || die "cannot read the plan at $plan"

# Input: the Job list (stdin). Output: one line per action, fields split by \x1f:
# kind (patch, summary or exit), Job name, merge patch, message (or exit code).
read -r -d '' decide <<'JQ' || true
def cond($t): [.status.conditions[]? | select(.type == $t and .status == "True")][0];
def out($kind; $job; $patch; $msg):
  [$kind, $job, (if $patch == null then "" else $patch | tojson end), ($msg | gsub("[\n\t\u001f]"; " "))]
  | join("\u001f");
def skip($why): {metadata: {annotations: {"mlops.cdk8s.io/skipped": $why}}};
def pad($n): . + (" " * ($n - length));
def done: .state == "complete" or .state == "failed" or .state == "skipped";

(reduce .items[] as $j ({}; .[$j.metadata.name] = $j)) as $jobs
| ($jobs[$self] // error("own Job \($self) is not in the list; does it carry mlops.cdk8s.io/pipeline?")) as $me
| ($me.metadata.annotations["mlops.cdk8s.io/completed"] // "" | split(",") | map(select(. != ""))) as $ledger
| ($now - ($me.metadata.creationTimestamp | fromdateiso8601)) as $age
| ($deadline > 0 and $age >= $deadline) as $late
| "run deadline of \($deadline)s exceeded" as $lateWhy
# The plan, checked to be in topological order: decisions below rely on it.
| [$plan | split("\n")[] | select(length > 0) | split("\t")
   | {step: .[0], job: .[1], up: (if (.[2] // "-") == "-" then [] else .[2] | split(",") end)}]
| (reduce .[] as $s ({}; . as $seen | ([$s.up[] | select($seen[.] == null)][0]) as $u
    | if $u == null then .[$s.step] = true
      else error("plan lists step \($s.step) before its upstream \($u)") end)) as $_
# Jobs are found by the names in the plan, not by step label: after a changed
# re-apply, an old and a new Job of one step can both be in the list.
| map(. as $s | $jobs[$s.job] as $j | $s +
    # The ledger wins over a Job that a re-apply re-created after its TTL deleted it.
    if ($ledger | index($s.step)) != null then {state: "complete"}
    elif $j == null then {state: "missing"}
    elif ($j | cond("Complete")) != null then {state: "complete", new: true}
    elif ($j | cond("Failed")) != null then {state: "failed", why: ($j | cond("Failed") | .reason // "Failed")}
    elif $j.metadata.annotations["mlops.cdk8s.io/skipped"] != null then {state: "skipped", why: $j.metadata.annotations["mlops.cdk8s.io/skipped"]}
    elif $j.spec.suspend != true then {state: "running"}
    # The Job controller keeps status.startTime when a Job is suspended again, so a
    # suspended Job with a startTime was stopped mid-run (by a re-apply of suspend: true).
    else {state: "waiting", stopped: ($j.status.startTime != null)} end)
| . as $obs
# Decide in plan order, so that what happens to an upstream this poll (skipped at the
# deadline, say) is known when its downstream steps are decided.
| reduce $obs[] as $s ({by: {}, acts: [],
    free: (if $cap > 0 then $cap - ($obs | map(select(.state == "running")) | length) else infinite end)};
    . as $acc
    | ([$s.up[] | $acc.by[.] | select(.state == "failed" or .state == "skipped")][0]) as $bad
    | (if $bad == null then null elif $bad.state == "failed" then "upstream step '\($bad.step)' failed: \($bad.why)" else $bad.why end) as $why
    | if $s.state == "running" and $late then
        .acts += [out("patch"; $s.job; {spec: {suspend: true}} * skip($lateWhy); "suspended \($s.step): \($lateWhy)")]
        | .by[$s.step] = $s + {state: "skipped", why: $lateWhy}
      # A missing Job cannot carry the annotation; it only counts as skipped here.
      elif ($s.state == "waiting" or $s.state == "missing") and ($why != null or $late) then
        ($why // $lateWhy) as $w
        | (if $s.state == "waiting" then .acts += [out("patch"; $s.job; skip($w); "skipped \($s.step): \($w)")] else . end)
        | .by[$s.step] = $s + {state: "skipped", why: $w}
      elif $s.state == "waiting" and .free > 0 and all($s.up[]; $acc.by[.].state == "complete") then
        .acts += [out("patch"; $s.job; {spec: {suspend: false}};
          if $s.stopped then "warning: \($s.step) was suspended again after it had started (a re-apply of spec.suspend: true?); released it again"
          else "released \($s.step) (\(if $s.up == [] then "no upstream" else "upstream: \($s.up | join(", "))" end))" end)]
        | .free -= 1
        | .by[$s.step] = $s + {state: "running"}
      else .by[$s.step] = $s end)
# Ledger first: a completed Job may be deleted by its TTL before the next poll.
| .by as $by
| [$obs[] | $by[.step]] as $final
| [$obs[] | select(.new) | .step] as $new
| (if $new == [] then empty else
    out("patch"; $self; {metadata: {annotations: {"mlops.cdk8s.io/completed": ($ledger + $new | join(","))}}};
      "completed: \($new | join(", ")) (recorded in the ledger)") end),
  .acts[],
  (if all($final[]; done) then
    ([$final[] | select(.state == "complete")] | length) as $ok
    | ([$final[].step | length] | max) as $w
    | out("summary"; ""; null; "run finished after \($age)s: \($ok) of \($final | length) steps complete"),
      ($final[] | out("summary"; ""; null; "  \(.step | pad($w))  \(.state | pad(8))  \(.why // .job)")),
      out("exit"; ""; null; if $ok == ($final | length) then "0" else "3" end)
  else empty end)
JQ

mapfile -t lines < "$plan"
say "coordinating pipeline $pipeline in namespace $ns: ${#lines[@]} steps, poll ${poll}s, run deadline ${deadline}s, max parallel ${cap} (0: no limit)"

while :; do
  # One list call per poll, however many steps wait: the API load stays flat with fan-out.
  # --chunk-size=0: kubectl would otherwise page the list in requests of 500 Jobs.
  if ! jobs=$(kubectl get jobs -n "$ns" -l "mlops.cdk8s.io/pipeline=$pipeline" --chunk-size=0 -o json </dev/null 2>"$kubectl_err"); then
    say "warning: listing the pipeline's Jobs failed; trying again in ${poll}s"
    api_failed list
    sleep "$poll"
    continue
  fi
  api_ok list
  # date(1), not jq's now: one clock, which the simulator in src/verify/simulator replaces.
  now=$(date +%s)
  # The list goes to jq on stdin: as an argument it could pass Linux's 128 KiB limit.
  decisions=$(printf '%s' "$jobs" | jq -r --rawfile plan "$plan" --arg self "$self" \
    --argjson now "$now" --argjson deadline "$deadline" --argjson cap "$cap" "$decide") \
    || die "the decision program failed on this Job list (see the jq error above)"
  unsure=0
  while IFS=$'\x1f' read -r kind job patch msg; do
    case "$kind" in
      patch)
        if kubectl patch job "$job" -n "$ns" --type=merge -p "$patch" >/dev/null </dev/null 2>"$kubectl_err"; then
          api_ok patch
          say "$msg"
        else
          unsure=1
          say "warning: patching Job $job failed, trying again next poll: $msg"
          api_failed patch
        fi ;;
      # A failed patch leaves the outcome open: summarise and exit only on a clean poll.
      summary) (( unsure )) || say "$msg" ;;
      exit) (( unsure )) || exit "$msg" ;;
    esac
  done < <(printf '%s\n' "$decisions")
  sleep "$poll"
done
