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
# The contract it implements is docs/coordinator-contract.md. jq 1.6 (the version of the
# kubectl image) copies an array or object that is referenced twice before it changes it,
# so the program keeps every poll linear in the number of Jobs: the decisions run in one
# reduce over a flat array that nothing else references (never `. as $x` on it, never a
# nested `.a[$i] = ...`, and no `//` or `first` left pending while it is updated: their
# backtracking point holds a reference, so such values are computed inside `[...]`), and
# Jobs, plan positions and upstream steps are looked up by key.
read -r -d '' decide <<'JQ' || true
def cond($t): [.status.conditions[]? | select(.type == $t and .status == "True")][0];
def out($kind; $job; $patch; $msg):
  [$kind, $job, (if $patch == null then "" else $patch | tojson end), ($msg | gsub("[\n\t\u001f]"; " "))]
  | join("\u001f");
def pad($n): . + (" " * ($n - length));
def final: .state == "complete" or .state == "failed" or .state == "skipped" or .state == "rejected";
def clip($n): if length > $n then .[:$n - 3] + "..." else . end;
# jq 1.6 joins in quadratic time: a log line names at most 10 items.
def listed: if length > 10 then "\(.[:10] | join(", ")) and \(length - 10) more" else join(", ") end;

# The ledger (docs/coordinator-contract.md, "The ledger"): the final state of every plan
# position in 3 bits, two positions per base64url character, trailing unrecorded
# positions left out. 100,000 steps take at most 50,000 bytes, whatever their names.
def codes: {complete: 1, failed: 2, skipped: 3, rejected: 4};
def states: [null, "complete", "failed", "skipped", "rejected"];
def alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" | explode;
# [code, ...] -> ledger text
def ledger_encode:
  . as $c | alphabet as $a
  | (last(range(0; $c | length) | select($c[.] > 0)) // -1) as $top
  | [range(0; $top + 1; 2) as $k | $a[$c[$k] * 8 + ($c[$k + 1] // 0)]] | implode;
# ledger text -> [code, ...]; positions past its end are not recorded (null)
def ledger_decode:
  (reduce (alphabet | to_entries[]) as $e ([]; .[$e.value] = $e.key)) as $d
  | [explode[] | ($d[.] // error("the ledger annotation holds a character outside base64url")) | ((. / 8 | floor), . % 8)];
# Reasons kept in the ledger: at most this many, each at most this many characters.
def notes_max: 100;
def note_chars: 200;
# Values kept in the ledger for consumers still waiting: at most this many bytes of JSON.
def values_bytes: 131072;

# How a final upstream's outcome reads in its downstream's skip reason.
def reason: if .state == "failed" then "upstream step '\(.step)' failed: \(.why)"
  elif .state == "rejected" then "gate rejected: \(.why)" else .why end;
# "succeeded", "failed" or "rejected" for final nodes: failures within their group's
# budget do not count, a skip at the run deadline does.
def outcome($lateWhy):
  (reduce (.[] | select(.state == "failed" and .budget != null)) as $n ({}; .[$n.budget.group] += 1)) as $fails
  | if any(.[]; (.state == "failed" and (.budget == null or $fails[.budget.group] > .budget.n)) or .why == $lateWhy) then "failed"
    elif any(.[]; .state == "rejected") then "rejected"
    else "succeeded" end;
# An operand of a condition (column 6): {v} when known, {missing, produced} when not. $V
# has a key for every completed producer that some node reads, its values object or null.
def operand($V; $pos):
  if has("const") then {v: .const}
  else . as $r | "\($pos[$r.step])" as $k
    | if ($V | has($k)) and ($V[$k] | type) == "object" and ($V[$k] | has($r.value)) then {v: $V[$k][$r.value], name: "\($r.step).\($r.value)"}
      else {missing: "\($r.step).\($r.value)", produced: ($V | has($k))} end end;
def shown: if .name then "\(.name) (\(.v | tojson))" else .v | tojson end;
def compare($op; $a; $b):
  if $op == "==" then $a == $b elif $op == "!=" then $a != $b elif $op == "<" then $a < $b
  elif $op == "<=" then $a <= $b elif $op == ">" then $a > $b elif $op == ">=" then $a >= $b
  else error("plan condition has the unknown operator \($op)") end;

# main
([.items[] | select(.metadata.name == $self)][0] // error("own Job \($self) is not in the list; does it carry mlops.cdk8s.io/pipeline?")) as $me
| ($me.metadata.annotations // {}) as $ma
# Only what the decisions read, keyed by Job name.
| (reduce .items[] as $j ({}; .[$j.metadata.name] = ($j | {
    complete: (cond("Complete") != null),
    # A library container that fails its step on purpose (the values reporter) says why on the Job.
    failed: (.metadata.annotations["mlops.cdk8s.io/failure-reason"] as $why
      | cond("Failed") | if . == null then null elif $why != null then $why elif .reason == null then "Failed" else .reason end),
    skipped: .metadata.annotations["mlops.cdk8s.io/skipped"],
    suspended: (.spec.suspend == true),
    started: (.status.startTime != null),
    verdict: .metadata.annotations["mlops.cdk8s.io/verdict"],
    values: .metadata.annotations["mlops.cdk8s.io/values"]}))) as $jobs
| ($ma["mlops.cdk8s.io/ledger"] // "" | ledger_decode) as $L
| ($ma["mlops.cdk8s.io/ledger-notes"] // "{}" | fromjson) as $notes
| ($ma["mlops.cdk8s.io/ledger-values"] // "{}" | fromjson) as $lvals
| ($now - ($me.metadata.creationTimestamp | fromdateiso8601)) as $age
| ($deadline > 0 and $age >= $deadline) as $late
| "run deadline of \($deadline)s exceeded" as $lateWhy
# The plan (columns in docs/coordinator-contract.md), upstream steps as positions. It
# must be in topological order: the decisions below rely on it.
| [$plan | split("\n")[] | select(length > 0) | split("\t")] as $rows
| (reduce range(0; $rows | length) as $i ({}; .[$rows[$i][0]] = $i)) as $pos
| [range(0; $rows | length) as $i | $rows[$i] | {
    i: $i, step: .[0], job: .[1],
    up: [if (.[2] // "-") == "-" then empty else .[2] | split(",")[] end | . as $u | $pos[$u]
      | if . == null or . >= $i then error("plan lists step \($rows[$i][0]) before its upstream \($u)") else . end],
    rule: (if (.[3] // "-") == "-" then "all-succeeded" else .[3] end),
    kind: (if (.[4] // "-") == "-" then "job" else .[4] end),
    cond: (if (.[5] // "-") == "-" then null else .[5] | fromjson end),
    vin: [if (.[6] // "-") == "-" then empty else .[6] | split(",")[]
      | capture("^(?<alias>[^=]+)=(?<step>[^.]+)[.](?<value>.+)$") // error("plan line of \($rows[$i][0]): bad value reference \(.)") end],
    budget: (if (.[7] // "-") == "-" then null else .[7] | split(":") | {group: .[0], n: (.[1] | tonumber)} end),
    cap: (if (.[8] // "-") == "-" then null else .[8] | split(":") | {group: .[0], n: (.[1] | tonumber)} end)}] as $P
# Observed states. Jobs are found by the names in the plan, not by step label: after a
# changed re-apply, an old and a new Job of one step can both be in the list.
| [$P[] | . as $s | $jobs[$s.job] as $j | states[$L[$s.i] // 0] as $rec | $s +
    # The ledger wins: over a Job that its TTL deleted, and over one that a re-apply re-created.
    if $rec == "complete" then {state: $rec}
    elif $rec != null then {state: $rec, why: ($notes["\($s.i)"] // $j.skipped // $j.failed // "reason not kept in the ledger")}
    elif $j == null then {state: "missing"}
    elif $j.complete then
      # A gate's pod writes its verdict on its own Job before it completes.
      if $s.kind != "gate" or $j.verdict == "approved" then {state: "complete"}
      elif ($j.verdict // "") | startswith("rejected") then
        {state: "rejected", why: ($j.verdict | sub("^rejected:?\\s*"; "") | if . == "" then "no reason given" else . end)}
      else {state: "failed", why: "gate finished without a verdict"} end
    elif $j.failed != null then {state: "failed", why: $j.failed}
    elif $j.skipped != null then {state: "skipped", why: $j.skipped}
    elif $j.suspended | not then {state: "running"}
    # The Job controller keeps status.startTime when a Job is suspended again, so a
    # suspended Job with a startTime was stopped mid-run (by a re-apply of suspend: true).
    else {state: "waiting", stopped: $j.started} end] as $obs
# Values of completed producers that some node reads (columns 6 and 7): from the
# producer's Job, or from the ledger once its TTL deleted it.
| ([$P[] | (.vin[].step), (.cond // empty | (.left, .right) | .step // empty)] | unique
   | map($pos[.] // error("plan reads a value of the unknown step \(.)"))) as $read
| (reduce ($read[] | $obs[.] | select(.state == "complete")) as $p ({};
    .["\($p.i)"] = ([($jobs[$p.job].values // null | if . == null then null else try fromjson catch null end) // $lvals["\($p.i)"]][0]))) as $V
| (if $cap > 0 then $cap - ([$obs[] | select(.state == "running")] | length) else infinite end) as $free
# Running members of each capped group (column 9: a fan-out's parallelism, a sweep's trials at once).
| (reduce ($obs[] | select(.state == "running" and .cap != null)) as $r ({}; .[$r.cap.group] += 1)) as $busy
| ($obs | length) as $n
# Decide in plan order, so that what happens to an upstream this poll (skipped at the
# deadline, say) is known when its downstream steps are decided. The accumulator is the
# nodes by position, then the count of free slots at [$n] and the running members of each
# capped group at [$n + 1]. Exit handlers (column 4 `exit`) are decided after every other node.
| reduce $obs[] as $s ($obs + [$free, $busy];
    if $s.rule == "exit" then . else
    [ [$s.up[] as $u | .[$u]] as $ups | .[$n] as $slots
      | ($s.cap != null and (.[$n + 1][$s.cap.group] // 0) >= $s.cap.n) as $groupFull
      | if $s.state == "running" and $late then $s + {state: "skipped", why: $lateWhy, act: "suspend"}
        elif $s.state != "waiting" and $s.state != "missing" then $s
        # A missing Job cannot carry the annotation; it only counts as skipped here.
        elif $late then $s + {state: "skipped", why: $lateWhy, act: "skip"}
        else
          # The trigger rule (column 4): {go}, {skip: reason} or {} to wait.
          [$ups[] | select(.state == "failed")][0] as $failed
          | ([$ups[] | select(final)] | length == ($ups | length)) as $alldone
          | (if $s.rule == "all-succeeded" then
              ([$ups[] | select(.state == "failed" or .state == "skipped" or .state == "rejected")][0]) as $bad
              | if $bad != null then {skip: ($bad | reason)} elif all($ups[]; .state == "complete") then {go: true} else {} end
            elif $s.rule == "all-done" then (if $alldone then {go: true} else {} end)
            elif $s.rule == "one-failed" then
              if $failed != null then {go: true} elif $alldone then {skip: "no upstream step failed"} else {} end
            elif $s.rule == "none-failed" then
              if $failed != null then {skip: ($failed | reason)} elif $alldone then {go: true} else {} end
            else error("plan gives step \($s.step) the unknown trigger rule \($s.rule)") end) as $t
          | if $t.skip != null then $s + {state: "skipped", why: $t.skip, act: "skip"}
            elif $t.go != true or $s.state == "missing" then $s
            else
              # The condition (column 6), on values of completed upstream steps.
              ($s.cond // null | if . == null then null else
                (.left | operand($V; $pos)) as $l | (.right | operand($V; $pos)) as $r
                | [$l, $r | select(.missing != null)][0] as $m
                | if $m != null and $m.produced then {fail: "value \($m.missing) was not produced"}
                  elif $m != null then {skip: "condition not evaluated: step \($m.missing | sub("[.].*$"; "")) did not complete"}
                  elif compare($s.cond.op; $l.v; $r.v) then null
                  else {skip: "condition false: \($l | shown) \($s.cond.op) \($r | shown)"} end end) as $c
              # Values in (column 7): a value of a step that did not complete is left out.
              | [$s.vin[] | . as $in | "\($pos[$in.step])" as $k
                 | if ($V | has($k)) | not then empty
                   elif ($V[$k] | type) == "object" and ($V[$k] | has($in.value)) then
                     {key: "in.mlops.cdk8s.io/\($in.alias)", value: ($V[$k][$in.value] | if type == "string" then . else tojson end)}
                   else {missing: "\($in.step).\($in.value)"} end] as $ins
              | [$ins[] | select(.missing != null)][0] as $lost
              | if $c.fail != null then $s + {state: "failed", why: $c.fail, act: "skip"}
                elif $lost != null then $s + {state: "failed", why: "value \($lost.missing) was not produced", act: "skip"}
                elif $c.skip != null then $s + {state: "skipped", why: $c.skip, act: "skip"}
                elif $slots <= 0 or $groupFull then $s
                # A node that may run after a failure learns how each upstream ended (contract, "Values").
                else $s + {state: "running", act: "release", ins: ($ins + if $s.rule == "all-succeeded" then [] else
                  [{key: "mlops.cdk8s.io/upstream-states", value: ([$ups[] | {key: .step, value: .state}] | from_entries | tojson)}] end)} end
            end
        end ] as [$d]
    | .[$s.i] = $d
    | if $d.act == "release" then .[$n] -= 1 | if $d.cap != null then .[$n + 1][$d.cap.group] += 1 else . end else . end
    end)
| .[:$n] as $decided
| ([$decided[] | select(.rule != "exit")]) as $main
| ([$main[] | select(final | not)] | length == 0) as $mainDone
| ($main | outcome($lateWhy)) as $mainOutcome
# Exit handlers: released once every other node is final, with the run's status and its
# failures in their pod template (docs/coordinator-contract.md, "Values").
| [$decided[] | if .rule != "exit" then .
    elif .state == "running" and $late then . + {state: "skipped", why: $lateWhy, act: "suspend"}
    elif (.state == "waiting" or .state == "missing") and $late then . + {state: "skipped", why: $lateWhy, act: "skip"}
    elif .state == "waiting" and $mainDone then . + {state: "running", act: "release", ins: [
      {key: "mlops.cdk8s.io/run-status", value: $mainOutcome},
      {key: "mlops.cdk8s.io/run-failures", value: ([$main[] | select(.state == "failed") | {step, reason: (.why | clip(note_chars))}][:notes_max] | tojson)}]}
    else . end] as $final
# The ledger: states, the reasons a Job does not keep (failed and rejected Jobs go with
# their TTL; a missing Job has none), and the values waiting consumers still need.
| ([$final[] | codes[.state] // 0] | ledger_encode) as $ledger
| (reduce ($final[] | select(.state == "failed" or .state == "rejected" or (.state == "skipped" and $jobs[.job] == null))) as $x ($notes;
    if has("\($x.i)") or length >= notes_max then . else .["\($x.i)"] = ($x.why | clip(note_chars)) end)) as $keptNotes
# A node released this poll still needs them should its release patch fail.
| (reduce ([$final[] | select(.state == "waiting" or .state == "missing" or .act == "release") | (.vin[].step), (.cond // empty | (.left, .right) | .step // empty)]
      | unique[] | "\($pos[.])" | select($V[.] != null)) as $k ({v: {}, bytes: 0};
    ($V[$k] | tojson | length) as $b
    | if .bytes + $b > values_bytes then . else .v[$k] = $V[$k] | .bytes += $b end) | .v) as $keptValues
| [$final[] | select(final and (codes[.state] != ($L[.i] // 0))) | "\(.state) \(.step)"] as $recorded
# Ledger first: a completed Job may be deleted by its TTL before the next poll.
| (if $ledger == ($ma["mlops.cdk8s.io/ledger"] // "") and $keptNotes == $notes and $keptValues == $lvals then empty else
    out("patch"; $self; {metadata: {annotations: {
      "mlops.cdk8s.io/ledger": $ledger,
      "mlops.cdk8s.io/ledger-notes": ($keptNotes | tojson),
      "mlops.cdk8s.io/ledger-values": ($keptValues | tojson)}}};
      if $recorded == [] then "ledger updated" else "recorded in the ledger: \($recorded | listed)" end) end),
  ($final[] | select(.act != null)
    | if .act == "release" then
        out("patch"; .job; {spec: ({suspend: false} + if .ins == [] or .stopped then {} else {template: {metadata: {annotations: (.ins | from_entries)}}} end)};
          if .stopped then "warning: \(.step) was suspended again after it had started (a re-apply of spec.suspend: true?); released it again"
          elif .rule == "exit" then "released exit handler \(.step) (run \($mainOutcome))"
          else "released \(.step) (\(if .up == [] then "no upstream" else "upstream: \([.up[] | $P[.].step] | join(", "))" end)\(
            if .ins == [] then "" else "; values: \([.ins[] | "\(.key | ltrimstr("in.mlops.cdk8s.io/"))=\(.value | clip(40))"] | listed)" end))" end)
      elif .act == "suspend" then
        out("patch"; .job; {spec: {suspend: true}, metadata: {annotations: {"mlops.cdk8s.io/skipped": .why}}}; "suspended \(.step): \(.why)")
      elif $jobs[.job] == null then empty
      else out("patch"; .job; {metadata: {annotations: {"mlops.cdk8s.io/skipped": .why}}}; "\(if .state == "failed" then "failed" else "skipped" end) \(.step): \(.why)") end),
  (if all($final[]; final) then
    ($final | outcome($lateWhy)) as $result
    | ([$final[] | select(.state == "complete")] | length) as $ok
    | ([$final[].step | length] | max) as $w
    | out("summary"; ""; null; "run finished after \($age)s: \($result); \($ok) of \($final | length) steps complete"),
      ($final[] | out("summary"; ""; null; "  \(.step | pad($w))  \(.state | pad(8))  \(.why // .job)")),
      out("exit"; ""; null; {succeeded: "0", failed: "3", rejected: "4"}[$result])
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
