#!/usr/bin/env bash
# Builds the real tools that judge modelship's output (test/judges/judges.tsv) into a versioned cache,
# once per version: $MODELSHIP_PEERS (default ~/.cache/modelship-peers)/<name>-<version>/bin/<binary>;
# the Python judges share one virtual environment, <peers>/python-<sha256 of requirements.txt, 16 hex>/.
# A judge already built is skipped, so a warm run takes a second. Each build logs how long it took.
# Usage: bash scripts/build-judges.sh [NAME...]   (no names: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${MODELSHIP_PEERS:-$HOME/.cache/modelship-peers}"
mkdir -p "$peers"
requirements=test/judges/requirements.txt
venv="$peers/python-$(sha256sum "$requirements" | cut -c1-16)"

want=("$@")
wanted() { [ ${#want[@]} -eq 0 ] && return 0; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

need_go() {
  command -v go >/dev/null || {
    echo "build-judges: Go is missing: install Go 1.26 or newer (https://go.dev/dl), then run \`bash scripts/build-judges.sh\`" >&2
    exit 1
  }
}

need_python() {
  command -v python3 >/dev/null && python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "build-judges: Python 3.11 or newer with venv and ensurepip is missing (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
  }
}

# A go-local judge is named by its pin and a hash of its module's files, so a change to them builds a new one.
local_hash() { (cd "$1" && find . -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16); }
judge_dir() { # name version how package
  case "$3" in
    go-local) echo "$peers/$1-$2-$(local_hash "$4")" ;;
    *) echo "$peers/$1-$2" ;;
  esac
}

built() { # name version how binary package
  case "$3" in
    pip) [ -f "$venv/.complete" ] && [ -x "$venv/bin/$4" ] ;;
    *) [ -x "$(judge_dir "$1" "$2" "$3" "$5")/bin/$4" ] ;;
  esac
}

build_go() { # name version package binary
  local dir="$peers/$1-$2"
  rm -rf "$dir/bin.partial"
  GOBIN="$dir/bin.partial" go install "$3@$2"
  rm -rf "$dir/bin" && mv "$dir/bin.partial" "$dir/bin"
}

build_go_module() { # name version package binary [replaces]: inside a copy of the module, so its replace directives apply
  local dir="$peers/$1-$2" module="${3%%/cmd/*}" src rel=. r
  [ "$module" != "$3" ] && rel="./${3#"$module"/}"
  src="$(go mod download -json "$module@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$src" ] || { echo "build-judges: go mod download $module@$2 gave no folder" >&2; exit 1; }
  rm -rf "$dir/src" "$dir/bin.partial"
  mkdir -p "$dir/bin.partial"
  cp -r "$src" "$dir/src" && chmod -R u+w "$dir/src"
  # A pinned dependency the proxy refuses is swapped for the nearest version it serves (listed in judges.tsv).
  for r in ${5//,/ }; do (cd "$dir/src" && go mod edit -replace "$r"); done
  (cd "$dir/src" && GOFLAGS=-mod=mod go build -trimpath -o "$dir/bin.partial/$4" "$rel")
  rm -rf "$dir/src" "$dir/bin" && mv "$dir/bin.partial" "$dir/bin"
}

build_go_local() { # name version folder binary: a module of this repository (go.mod and go.sum pin every dependency)
  local dir
  dir="$(judge_dir "$1" "$2" go-local "$3")"
  rm -rf "$dir/bin.partial"
  mkdir -p "$dir/bin.partial"
  (cd "$3" && go build -mod=readonly -trimpath -o "$dir/bin.partial/$4" .)
  rm -rf "$dir/bin" && mv "$dir/bin.partial" "$dir/bin"
}

build_pip() { # one environment for every pip row; .complete marks a finished install
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  "$venv/bin/python" -m pip check
  "$venv/bin/model_signing" --help >/dev/null # imports every module it needs, so an undeclared dependency shows here
  touch "$venv/.complete"
}

total=$SECONDS ready=0
while IFS=$'\t' read -r name version how package binary replaces <&3; do
  case "$name" in ''|'#'*) continue ;; esac
  wanted "$name" || continue
  ready=$((ready + 1))
  built "$name" "$version" "$how" "$binary" "$package" && continue
  start=$SECONDS
  echo "build-judges: building $name $version ($how)" >&2
  case "$how" in
    go) need_go; build_go "$name" "$version" "$package" "$binary" ;;
    go-module) need_go; build_go_module "$name" "$version" "$package" "$binary" "${replaces:-}" ;;
    go-local) need_go; build_go_local "$name" "$version" "$package" "$binary" ;;
    pip) need_python; build_pip ;;
    *) echo "build-judges: $name: unknown build kind '$how' in test/judges/judges.tsv" >&2; exit 1 ;;
  esac
  echo "build-judges: $name $version built in $((SECONDS - start)) s" >&2
done 3< test/judges/judges.tsv
echo "build-judges: $ready judges ready in $peers ($((SECONDS - total)) s)" >&2
