#!/usr/bin/env bash
# check_self_contained.sh - fails when the project reads anything outside its
# repository at build or test time (installed packages aside), as a user's
# fresh clone would find (issue 20):
#  1. no tracked file but prose (*.md) names ../shared, the folder beside this
#     project's own build machines' checkouts;
#  2. a clone of HEAD, alone in an empty folder, builds and passes its unit
#     tests (the ones that read captured fixtures).
# Run by .ci/run; from a developer's tree it checks HEAD (commit first).
set -euo pipefail
cd "$(dirname "$0")/.."

hits=$(git ls-files -z -- . ':(exclude)*.md' ':(exclude)scripts/check_self_contained.sh' \
       | xargs -0 grep -nIE '\.\./shared|shared/reference' || true)
if [ -n "$hits" ]; then
  echo "check_self_contained: these files reach outside the repository:" >&2
  echo "$hits" >&2
  exit 1
fi
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
  echo "check_self_contained: uncommitted changes are not in the clone it checks" >&2

alone=$(mktemp -d)
trap 'rm -rf "$alone"' EXIT
git clone -q --no-hardlinks . "$alone/shoal"
ls -A "$alone" | grep -qvx shoal && { echo "check_self_contained: $alone is not empty" >&2; exit 1; }
"$alone/shoal/scripts/build.sh" "$alone/shoal/build" >/dev/null
(cd "$alone/shoal/build" && ctest --output-on-failure -L unit)
echo "check_self_contained: ok (no reference outside the tree; unit tests pass in a lone clone)"
