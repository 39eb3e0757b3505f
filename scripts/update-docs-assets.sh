#!/usr/bin/env bash
# The API docs pages' vendored assets (third_party/, served by /docs and /redoc from inside the
# binaries, shared/docs): Swagger UI and Redoc, each from its npm package at a pinned version,
# the tarball checked against the pinned sha512 integrity before anything is taken from it.
# Only the files the pages serve, and the licences, are kept; they are the package's bytes but
# for the substitutions below (each must apply exactly once), so the checked-in copy is
# reproducible from the registry.
#   scripts/update-docs-assets.sh           fetch the pinned versions into third_party/
#   scripts/update-docs-assets.sh --check   fetch them and fail if third_party/ differs
# To move to a new version: change its version and integrity below (the integrity from
# `npm view <package>@<version> dist.integrity`), run this, and update shared/docs/CMakeLists.txt
# (the folder names) and the README's section on the docs pages.
# Needs npm (the build does not: it uses the checked-in copy).
set -euo pipefail
cd "$(dirname "$0")/.."

# package version integrity files-kept (paths inside the package)
assets=(
  "swagger-ui-dist 5.36.0 sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A== swagger-ui-bundle.js,swagger-ui-bundle.js.LICENSE.txt,swagger-ui.css,LICENSE,NOTICE"
  "redoc 2.5.4 sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ== bundles/redoc.standalone.js,bundles/redoc.standalone.js.LICENSE.txt,LICENSE"
)

# file-in-the-kept-folder|text|replacement: the few places where a bundle itself would load
# something from elsewhere, with no option to turn it off.
#  - Redoc 2's sidebar footer ("API docs by Redocly") shows an <img> from cdn.redoc.ly: the page's
#    policy would block it, but the attempt is still a request the page makes to a third party
#    (and a reported violation). "data:," fails to load, and Redoc then renders no image.
substitutions=(
  'redoc-2.5.4/redoc.standalone.js|src:"https://cdn.redoc.ly/redoc/logo-mini.svg"|src:"data:,"'
)

check=0
[ "${1:-}" = "--check" ] && check=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

for entry in "${assets[@]}"; do
  read -r package version integrity files <<<"$entry"
  # npm pack fetches the tarball from the registry (or npm's cache, which is checked by
  # integrity too) without installing or running anything of the package.
  tarball=$(cd "$work" && npm pack --silent "$package@$version")
  actual="sha512-$(openssl dgst -sha512 -binary "$work/$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "update-docs-assets: $package@$version: integrity $actual, expected $integrity" >&2
    exit 1
  fi
  mkdir -p "$work/$package"
  tar -xzf "$work/$tarball" -C "$work/$package"
  dest="third_party/$package-$version"
  staged="$work/staged-$package"
  mkdir -p "$staged"
  IFS=, read -r -a kept <<<"$files"
  for f in "${kept[@]}"; do cp "$work/$package/package/$f" "$staged/$(basename "$f")"; done
  for s in "${substitutions[@]}"; do
    IFS='|' read -r target from to <<<"$s"
    [ "${target%%/*}" = "$package-$version" ] || continue
    file="$staged/${target#*/}"
    count=$(grep -oF -- "$from" "$file" | wc -l)
    if [ "$count" != 1 ]; then
      echo "update-docs-assets: $target: '$from' found $count times, expected once: review the substitution" >&2
      exit 1
    fi
    FROM="$from" TO="$to" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$file"
  done
  if [ "$check" = 1 ]; then
    if ! diff -r "$staged" "$dest" >/dev/null 2>&1; then
      echo "update-docs-assets: $dest differs from $package@$version ($integrity)" >&2
      status=1
    else
      echo "update-docs-assets: $dest matches $package@$version"
    fi
  else
    rm -rf "$dest"
    mkdir -p "$dest"
    cp "$staged"/* "$dest/"
    echo "update-docs-assets: $dest from $package@$version ($integrity)"
  fi
done
exit "$status"
