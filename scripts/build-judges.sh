#!/usr/bin/env bash
# Builds the real tools that judge modelship's output (test/judges/judges.tsv) into a versioned cache,
# once per version: $MODELSHIP_PEERS (default ~/.cache/modelship-peers)/<name>-<version>/bin/<binary>.
# Usage: bash scripts/build-judges.sh [NAME...]   (no names: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${MODELSHIP_PEERS:-$HOME/.cache/modelship-peers}"
mkdir -p "$peers"
command -v go >/dev/null || { echo "build-judges: Go is missing (Go 1.26 or newer builds the judges)" >&2; exit 1; }

want=("$@")
wanted() { [ ${#want[@]} -eq 0 ] && return 0; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

build_go() { # name version package binary
  local dir="$peers/$1-$2"
  GOBIN="$dir/bin.partial" go install "$3@$2" && mv "$dir/bin.partial" "$dir/bin"
}

build_go_module() { # name version package binary: inside the module, so its replace directives apply
  local dir="$peers/$1-$2" module="${3%%/cmd/*}" src
  src="$(go mod download -json "$module@$2" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  mkdir -p "$dir/bin.partial"
  (cd "$src" && GOFLAGS=-mod=mod go build -o "$dir/bin.partial/$4" "./${3#"$module"/}") && mv "$dir/bin.partial" "$dir/bin"
}

while IFS=$'\t' read -r name version how package binary; do
  case "$name" in ''|'#'*) continue ;; esac
  wanted "$name" || continue
  [ -x "$peers/$name-$version/bin/$binary" ] && continue
  rm -rf "$peers/$name-$version/bin.partial"
  start=$SECONDS
  echo "build-judges: building $name $version" >&2
  case "$how" in
    go) build_go "$name" "$version" "$package" "$binary" ;;
    go-module) build_go_module "$name" "$version" "$package" "$binary" ;;
  esac
  echo "build-judges: $name $version built in $((SECONDS - start)) s" >&2
done < test/judges/judges.tsv
