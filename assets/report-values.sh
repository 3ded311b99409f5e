#!/bin/bash
# cdk8s-mlops values reporter: the main container of a step that declares values, started
# once the step's own container (the pod's last init container) has exited 0. It checks each
# $MLOPS_VALUES/<name> against its declared type and the size limit, and writes them all on
# its own Job as the annotation mlops.cdk8s.io/values, which the coordinator reads
# (docs/coordinator-contract.md, "Values").
# A value that is missing, of the wrong type or too large fails the step at once: exit 3,
# which the Job's podFailurePolicy turns into a failed Job (a retry would write the same
# file). The reason is the last line of its log, which the kubelet keeps as the container's
# termination message (terminationMessagePolicy: FallbackToLogsOnError), and goes on the
# Job as the annotation mlops.cdk8s.io/failure-reason, which the coordinator shows.
set -euo pipefail

dir="${MLOPS_VALUES:?}"
types="${MLOPS_VALUE_TYPES:?}"
self="${MLOPS_SELF:?}"
ns="${MLOPS_NAMESPACE:?}"
# All values of a step together, as compact JSON: the size of a termination message, far
# under the 256 KiB of annotations an object may carry.
limit=4096

patch_own_job() {
  local try
  for try in 1 2 3; do
    kubectl patch job "$self" -n "$ns" --type merge -p "$1" >/dev/null && return 0
    (( try == 3 )) || sleep 2
  done
  return 1
}

reject() {
  patch_own_job "$(jq -cn --arg r "$1" '{metadata: {annotations: {"mlops.cdk8s.io/failure-reason": $r}}}')" \
    || printf 'report-values: cannot write the reason on job %s\n' "$self" >&2
  printf 'report-values: %s\n' "$1" >&2
  exit 3
}

# The start of a file, as JSON text, for messages.
shown() { head -c 40 "$1" | jq -Rsc .; }

values='{}'
while IFS=$'\t' read -r name type; do
  file="$dir/$name"
  # The step's own container wrote this folder: a link could point at this container's token.
  [[ ! -L "$file" ]] || reject "value '$name': \$MLOPS_VALUES/$name is a symbolic link; write the value itself into the file"
  [[ -f "$file" ]] || reject "value '$name' was not written: the step must write it to the file \$MLOPS_VALUES/$name"
  size=$(wc -c <"$file")
  (( size <= limit )) || reject "value '$name' is $size bytes, over the limit of $limit bytes for all values of a step together; write large results to an artifact"
  case "$type" in
    # Text as written, less one trailing newline (what echo adds).
    string) json=$(jq -Rsc 'if endswith("\n") then .[:-1] else . end' "$file") ;;
    json) json=$(jq -sc 'if length == 1 then .[0] else error("") end' "$file" 2>/dev/null) \
      || reject "value '$name' is not one JSON document: got $(shown "$file")" ;;
    number | boolean) json=$(jq -sc --arg t "$type" 'if length == 1 and (.[0] | type) == $t then .[0] else error("") end' "$file" 2>/dev/null) \
      || reject "value '$name' is not a $type: got $(shown "$file"); write $( [[ $type == number ]] && echo 'one JSON number, e.g. 0.93' || echo 'true or false')" ;;
    *) reject "value '$name' has the unknown type '$type' in MLOPS_VALUE_TYPES" ;;
  esac
  values=$(jq -c --arg n "$name" --argjson v "$json" '.[$n] = $v' <<<"$values")
done < <(jq -r 'to_entries[] | "\(.key)\t\(.value)"' <<<"$types")

bytes=$(printf '%s' "$values" | wc -c)
(( bytes <= limit )) || reject "the values take $bytes bytes together as JSON, over the limit of $limit bytes for all values of a step; write large results to an artifact"
printf 'values: %s\n' "$values"
# Exit 2 on an API error after three tries: the Job retries the pod, and the step with it.
patch_own_job "$(jq -cn --arg v "$values" '{metadata: {annotations: {"mlops.cdk8s.io/values": $v}}}')" \
  || { printf 'report-values: cannot write the values on job %s\n' "$self" >&2; exit 2; }
