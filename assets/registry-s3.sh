#!/bin/bash
# cdk8s-mlops model registry on an object store (the S3 API), with the AWS CLI v2 of the
# amazon/aws-cli image (bash 4.2, coreutils; no jq). docs/serving.md, "Registry on an object store".
#
#   registry-s3.sh publish <model dir> <lineage tail> <version file>   (promotion)
#   registry-s3.sh pull <local dir> <pinned version or ''> <wait|fail>  (a pod's init container)
#   registry-s3.sh sync <local dir> <interval seconds>                  (a server's sidecar)
#   registry-s3.sh baseline <local dir>                                 (a gate's init container)
#
# Layout under s3://$MLOPS_S3_BUCKET/$MLOPS_S3_MODEL_PREFIX/ (the model's folder):
#   <n>/...files, <n>/lineage.json, <n>/READY   a version; complete once READY exists (written last)
#   .claims/<n>/<job>                            who claimed version number n
# Readers only ever consider integer versions whose READY object exists.
#
# Version numbers without a lock: S3 is strongly consistent, "After a successful write of a new
# object ... any subsequent read request immediately receives the latest version of the object";
# "List operations are also strongly consistent" (Amazon S3 User Guide, "Amazon S3 data
# consistency model", https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
# A promotion writes its claim .claims/<n>/<job>, then lists .claims/<n>/: it owns n only if its
# claim is the only one there. Two owners of n are impossible: of two claimants, the one whose
# PUT came second lists after it, so after the first one's PUT, and sees that claim unless it was
# removed; an owner never removes its claim. A claimant that sees others removes its own claim
# and tries the next free number after a random pause, except the lowest-named one, which looks
# again a few times first, so that one of them gets n. (Letting the lowest job name win outright
# is not safe: a lower name may claim after a higher one has seen itself alone and gone on.)
set -euo pipefail

bucket="${MLOPS_S3_BUCKET:?}"
base="${MLOPS_S3_MODEL_PREFIX:?}"
ready=READY
# $base inside sed patterns: its '.' and '*' literal.
base_re="$(printf '%s' "$base" | sed 's/[.*[\^$]/\\&/g')"

say() { printf 'registry: %s\n' "$*"; }
fail() { printf 'registry: %s\n' "$*" >&2; exit 1; }

# aws-cli 2.9 reads no endpoint from the environment: pass it as --endpoint-url. S3-compatible
# stores are addressed path-style (http://host/bucket/key), not bucket.host.
endpoint=()
if [[ -n "${MLOPS_S3_ENDPOINT:-}" ]]; then
  endpoint=(--endpoint-url "$MLOPS_S3_ENDPOINT")
  mkdir -p "$HOME/.aws"
  printf '[default]\ns3 =\n  addressing_style = path\n' >"$HOME/.aws/config"
fi
s3() { aws ${endpoint[@]+"${endpoint[@]}"} "$@"; }

# `--output text` prints list results tab-separated, one page a line, and "None" for nothing.
lines() { tr '\t' '\n' | sed '/^None$/d;/^$/d'; }

# Integer version numbers under the model's folder, ascending (one LIST with a delimiter).
versions() {
  s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$base/" --delimiter / --query 'CommonPrefixes[].Prefix' --output text \
    | lines | sed -n "s|^${base_re}/\([0-9][0-9]*\)/\$|\1|p" | sort -n
}

is_ready() { s3 s3api head-object --bucket "$bucket" --key "$base/$1/$ready" >/dev/null 2>&1; }

# The highest ready version (at most `$1` when given; among the versions `$2` when given), or nothing.
newest_ready() {
  local v all=${2:-}
  # A failed listing is an error (the caller exits, or retries), not "no version".
  [[ -n "$all" ]] || all="$(versions)" || return 1
  while read -r v; do
    if [[ -z "$v" ]] || { [[ -n "${1:-}" ]] && (( 10#$v > 10#$1 )); }; then continue; fi
    if is_ready "$v"; then echo "$((10#$v))"; return 0; fi
  done < <(sort -rn <<<"$all")
}

# Claimants of version n (job names), sorted.
claimants() {
  s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$base/.claims/$1/" --query 'Contents[].Key' --output text \
    | lines | sed "s|^${base_re}/\.claims/$1/||" | sort
}

# Downloads version $1 into $2/$1: into a staging folder first, then one rename, so a reader of
# $2 sees the version whole or not at all. `$3` = lineage: only lineage.json and READY.
fetch() {
  local v=$1 dir=$2 what=${3:-all} stage
  [[ -d "$dir/$v" ]] && return 0
  mkdir -p "$dir"
  stage="$dir/.staging-$v"
  rm -rf "$stage"
  if [[ $what == lineage ]]; then
    s3 s3 cp --only-show-errors "s3://$bucket/$base/$v/lineage.json" "$stage/lineage.json"
    : >"$stage/$ready"
  else
    s3 s3 cp --only-show-errors --recursive "s3://$bucket/$base/$v/" "$stage/"
  fi
  mv -T "$stage" "$dir/$v"
}

publish() {
  local model_dir=$1 tail_file=$2 out=$3 self="${MLOPS_SELF:?}" n="" v who tries=0 baseline body mine look claims all
  [[ -d "$model_dir" && -n "$(ls -A "$model_dir")" ]] || fail "the approved model's folder $model_dir is missing or empty: the training step must write its model there"
  body="$(cat "$tail_file")"
  [[ $body == '{'*'}' ]] || fail "$tail_file is not the lineage written by the promotion's first container"

  # A retry of this Job: the version it owns already (its claim, alone), finished if READY is missing.
  claims="$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$base/.claims/" --query 'Contents[].Key' --output text | lines)"
  mine="$(sed -n "s|^${base_re}/\.claims/\([0-9][0-9]*\)/${self}\$|\1|p" <<<"$claims" | sort -n)"
  for v in $mine; do
    if [[ "$(claimants "$v")" == "$self" ]]; then n=$v; else s3 s3api delete-object --bucket "$bucket" --key "$base/.claims/$v/$self" >/dev/null; fi
  done
  if [[ -n "$n" ]] && is_ready "$n"; then
    say "this model is version $n of $base already; nothing new to publish"
    echo "$n" >"$out"
    return 0
  fi

  all="$(versions)"
  while [[ -z "$n" ]]; do
    tries=$((tries + 1))
    (( tries <= 20 )) || fail "no free version number after 20 tries: too many promotions of $base at once"
    if (( tries > 1 )); then
      all="$(versions)"
      claims="$(s3 s3api list-objects-v2 --bucket "$bucket" --prefix "$base/.claims/" --query 'Contents[].Key' --output text | lines)"
    fi
    v="$( { echo "$all"; sed -n "s|^${base_re}/\.claims/\([0-9][0-9]*\)/.*|\1|p" <<<"$claims"; } | sed '/^$/d' | sort -n | tail -n 1)"
    v=$(( 10#${v:-0} + 1 ))
    s3 s3api put-object --bucket "$bucket" --key "$base/.claims/$v/$self" >/dev/null
    # The lowest-named claimant stays and looks again a few times, as the others step aside
    # (progress without two winners: it still owns v only once it sees its claim alone).
    for look in 1 2 3 4; do
      who="$(claimants "$v")"
      if [[ "$who" == "$self" ]]; then n=$v; break 2; fi
      [[ "$(head -n 1 <<<"$who")" == "$self" && $look -lt 4 ]] || break
      sleep 2
    done
    say "version $v is claimed by $(tr '\n' ' ' <<<"$who")too; trying another number"
    s3 s3api delete-object --bucket "$bucket" --key "$base/.claims/$v/$self" >/dev/null
    sleep "$((RANDOM % 3)).$((RANDOM % 10))"
  done

  baseline="$(newest_ready "$((n - 1))" "$all")"
  s3 s3 cp --only-show-errors --recursive "$model_dir/" "s3://$bucket/$base/$n/"
  printf '{"version":%s,"baseline":{"version":%s,"note":"the latest ready version when this one was published"},%s\n' \
    "$n" "${baseline:-null}" "${body#\{}" >"${TMPDIR:-/tmp}/lineage.json"
  s3 s3 cp --only-show-errors "${TMPDIR:-/tmp}/lineage.json" "s3://$bucket/$base/$n/lineage.json"
  # Last: from here on, readers take the version.
  s3 s3api put-object --bucket "$bucket" --key "$base/$n/$ready" >/dev/null
  say "published $model_dir as version $n of s3://$bucket/$base (previous ready version: ${baseline:-none})"
  echo "$n" >"$out"
}

# The integer version folders of a local directory, ascending.
local_versions() {
  local d v
  for d in "$1"/*/; do
    v="${d%/}"; v="${v##*/}"
    if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; fi
  done | sort -n
}

# Keeps the two newest local versions: the one served and the one before it.
prune() {
  local dir=$1 v
  for v in $(local_versions "$dir" | head -n -2); do
    rm -rf "${dir:?}/$v"
  done
}

pull() {
  local dir=$1 pinned=$2 missing=$3 v
  while :; do
    if [[ -n "$pinned" ]]; then
      if is_ready "$pinned"; then v=$pinned; else v=; fi
    else
      v="$(newest_ready)"
    fi
    if [[ -n "$v" ]]; then
      fetch "$v" "$dir"
      say "version $v of s3://$bucket/$base is in $dir/$v"
      return 0
    fi
    if [[ $missing == fail ]]; then
      echo "registry: no ready version ${pinned:-of any number} in s3://$bucket/$base: nothing to load; publish an approved version, or pin one that is ready" >&2
      exit 3
    fi
    say "no ready version ${pinned:-of any number} in s3://$bucket/$base yet; waiting"
    sleep 10
  done
}

sync() {
  local dir=$1 interval=$2 v have
  while :; do
    sleep "$interval"
    v="$(newest_ready)" || { say "listing s3://$bucket/$base failed; trying again"; continue; }
    have="$(local_versions "$dir" | tail -n 1)"
    if [[ -n "$v" ]] && (( 10#$v > 10#${have:-0} )); then
      fetch "$v" "$dir" || { say "downloading version $v failed; trying again"; continue; }
      say "version $v of s3://$bucket/$base is in $dir/$v"
      prune "$dir"
    fi
  done
}

baseline() {
  local dir=$1 v
  v="$(newest_ready)"
  if [[ -z "$v" ]]; then say "no ready version in s3://$bucket/$base: no baseline yet"; return 0; fi
  fetch "$v" "$dir" lineage
  say "the baseline is version $v of s3://$bucket/$base"
}

command=${1:?publish, pull, sync or baseline}
shift
case $command in
  publish) publish "$@" ;;
  pull) pull "$@" ;;
  sync) sync "$@" ;;
  baseline) baseline "$@" ;;
  *) fail "unknown command $command" ;;
esac
