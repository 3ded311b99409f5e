#!/bin/bash
# cdk8s-mlops promotion: publishes an approved model into the model registry as
# <model>/<integer version>/, then tells the servers that need telling (docs/serving.md).
#
# Atomic: the files are copied into a staging folder on the registry's own volume, lineage.json
# is written there, and the folder is renamed to its version number in one rename(2); READY is
# written last, after the rename. Readers (servers, the gate's registry baseline) take only
# integer folders holding READY, and TensorFlow Serving, which ignores READY, never sees a
# half-copied version because the folder appears whole.
#
# The version is one more than the highest integer folder. Two runs promoting at once may pick
# the same number: rename(2) onto a non-empty folder fails (ENOTEMPTY/EEXIST, POSIX and NFS
# alike), so the loser takes the next number. No lock, no clock.
#
# Idempotent: a model already published (lineage.json names the same model folder, which holds
# the training step's hash or the run id) is not published again; the servers are told again,
# which is harmless, so a retry after a failed notification completes it.
#
# A registry on an object store runs this script twice around assets/registry-s3.sh, which
# uploads with the AWS CLI (its image has no jq, this one no aws):
#   promote.sh lineage <file>        first: checks the inputs, writes the lineage without its version
#   promote.sh tell <version file>   last: tells the servers about the version registry-s3.sh published
set -euo pipefail
phase="${1:-claim}"

model_dir="${MLOPS_INPUT_MODEL:?}"
metrics_file="${MLOPS_INPUT_METRICS:?}/metrics.json"
base="${MLOPS_REGISTRY_MODEL:?}"
name="${MLOPS_MODEL_NAME:?}"
self="${MLOPS_SELF:?}"
gate="${MLOPS_GATE:?}"
hooks="${MLOPS_PROMOTION_HOOKS:-[]}"
run="${MLOPS_RUN:-${MLOPS_RUN_ID:-}}"

say() { printf 'promote: %s\n' "$*"; }
fail() { printf 'promote: %s\n' "$*" >&2; exit 1; }

[[ "$phase" == tell ]] || [[ -d "$model_dir" && -n "$(ls -A "$model_dir")" ]] || fail "the approved model's folder $model_dir is missing or empty: the training step must write its model there"
if [[ "$phase" != tell ]]; then
  for reserved in READY lineage.json; do
    [[ ! -e "$model_dir/$reserved" ]] || fail "the model's folder holds '$reserved', a name the registry reserves for itself; rename that file in the training step"
  done
  jq -e 'type == "object"' "$metrics_file" >/dev/null 2>&1 || fail "$metrics_file is not a JSON object of metric names to numbers"
fi

# Integer version folders, ascending; other names (staging folders) are not versions.
versions() {
  local dir v
  for dir in "$base"/*/; do
    v="${dir%/}"; v="${v##*/}"
    if [[ "$v" =~ ^[0-9]+$ ]]; then echo "$((10#$v))"; fi
  done | sort -n
}

tell_servers() {
  local version=$1 count i description
  local -a argv
  count="$(jq 'length' <<<"$hooks")"
  for ((i = 0; i < count; i++)); do
    description="$(jq -r ".[$i].description" <<<"$hooks")"
    mapfile -d '' -t argv < <(jq -j ".[$i].command[] + \"\\u0000\"" <<<"$hooks")
    # Tried again a second later: kubectl rollout restart refuses a second restart of one
    # Deployment within the same second (two promotions finishing together).
    MLOPS_VERSION="$version" MLOPS_VERSION_PATH="$base/$version" "${argv[@]}" \
      || { sleep 1 && MLOPS_VERSION="$version" MLOPS_VERSION_PATH="$base/$version" "${argv[@]}"; } \
      || fail "version $version of $name is published, but '$description' failed; the Job retries it"
    say "told: $description"
  done
}

# What a version records besides its number and baseline: one line of JSON.
lineage() {
  jq -cn --arg model "$name" --arg run "$run" --arg job "$self" \
    --arg path "$model_dir" --arg pipeline "${MLOPS_PIPELINE:-}" --argjson gate "$gate" \
    --slurpfile metrics "$metrics_file" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
      model: $model, publishedAt: $at,
      run: {pipeline: $pipeline, id: (if $run == "" then null else $run end), job: $job, stepHash: ($job | split("-") | last)},
      source: {path: $path},
      metrics: $metrics[0],
      gate: ($gate + {verdict: "approved"})
    }'
}

case "$phase" in
  lineage) lineage >"${2:?the lineage file}"; say "lineage of $model_dir written"; exit 0 ;;
  tell)
    version="$(cat "${2:?the version file}")"
    [[ "$version" =~ ^[0-9]+$ ]] || fail "${2} holds '$version', not the version number the upload wrote"
    tell_servers "$version"
    exit 0 ;;
  claim) mkdir -p "$base" ;;
  *) fail "unknown phase $phase" ;;
esac

# Published already: a retry of this Job, or the same run applied again.
for v in $(versions); do
  lineage="$base/$v/lineage.json"
  if [[ -f "$lineage" && "$(jq -r '.source.path' "$lineage" 2>/dev/null)" == "$model_dir" ]]; then
    # A pod that died between the rename and READY left it unready: finish it.
    [[ -f "$base/$v/READY" ]] || : >"$base/$v/READY"
    say "$model_dir is version $v of $name already; nothing new to publish"
    tell_servers "$v"
    exit 0
  fi
done

# Staging folders of earlier attempts of this Job (pods named <job>-<suffix>) are leftovers.
rm -rf "$base/.staging-$self-"*
stage="$base/.staging-${HOSTNAME:-$self-$$}"
rm -rf "$stage"
mkdir "$stage"
cp -R "$model_dir/." "$stage/"

baseline='null'
for v in $(versions); do
  if [[ -f "$base/$v/READY" ]]; then baseline="$v"; fi
done
last="$(versions | tail -n 1)"
version=$(( ${last:-0} + 1 ))
while :; do
  lineage | jq --argjson version "$version" --argjson baseline "$baseline" \
    '{version: $version, baseline: {version: $baseline, note: "the latest ready version when this one was published"}} + .' >"$stage/lineage.json"
  if [[ ! -e "$base/$version" ]] && mv -T "$stage" "$base/$version" 2>/dev/null; then break; fi
  [[ -e "$base/$version" ]] || fail "cannot rename $stage to $base/$version"
  version=$((version + 1))
done
: >"$base/$version/READY"
say "published $model_dir as version $version of $name (previous ready version: $baseline)"
tell_servers "$version"
