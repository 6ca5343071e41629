#!/usr/bin/env bash
# The main job on a fresh machine, offline: an example model is described, packed as a ModelPack
# artifact, documented (SBOM, MOF gate), signed, verified, copied to an OCI layout and served.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(realpath -m "${1:-.quickstart}")
rm -rf "$work"
mkdir -p "$work"
export MODELSHIP_HOME="$work/home"
ms() { echo "+ modelship $*" >&2; node bin/modelship.js "$@"; }

ms example "$work/tiny-chat"
ms init "$work/tiny-chat"
ms pack "$work/tiny-chat" -t tiny-chat:v1
ms inspect tiny-chat:v1
ms mof tiny-chat:v1 --require 3 --attach
ms sbom tiny-chat:v1 --format cyclonedx --attach -o "$work/tiny-chat.cdx.json"
MODELSHIP_KEY_PASSWORD= ms keys generate -o "$work/signing"
ms sign tiny-chat:v1 --key "$work/signing.key"
ms verify tiny-chat:v1 --key "$work/signing.pub"
ms copy tiny-chat:v1 "oci:$work/layout:v1" --referrers
ms discover "oci:$work/layout:v1"

# Serve it and ask one question through the OpenAI-compatible API.
node bin/modelship.js serve tiny-chat:v1 --port 0 --threads 1 --json > "$work/serve.json" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  url=$(node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url) } catch {}' "$work/serve.json")
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { echo "serve did not start" >&2; exit 1; }
echo "+ curl $url/chat/completions" >&2
curl -fsS "$url/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"tiny-chat","messages":[{"role":"user","content":"Who are you?"}]}'
echo
echo "Done. Artifacts are in $MODELSHIP_HOME/store (an OCI layout) and $work/layout." >&2
