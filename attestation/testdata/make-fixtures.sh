#!/bin/sh
# Regenerates the cosign-made fixtures of this directory (see README.md). Needs cosign v2.6.5
# (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5) and python3. Runs offline.
# Signatures are ECDSA (randomized): every run gives new bytes; tests only rely on their meaning.
set -eu
cd "$(dirname "$0")"
COSIGN=${COSIGN_BIN:-cosign}
export COSIGN_PASSWORD=custody-test COSIGN_YES=true
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" TUF_ROOT="$tmp/.sigstore"
TYPE=https://custody.dev/attestation/v1

rm -f cosign.key cosign.pub
"$COSIGN" generate-key-pair
printf 'hello custody\n' > artifact.txt
# predicate.json is written by hand; its material digest is the sha256 of artifact.txt.
"$COSIGN" attest-blob --new-bundle-format --key cosign.key --tlog-upload=false \
  --type "$TYPE" --predicate predicate.json --bundle cosign-bundle.json artifact.txt > /dev/null
"$COSIGN" attest-blob --key cosign.key --tlog-upload=false \
  --type "$TYPE" --predicate predicate.json artifact.txt > cosign-envelope.json
"$COSIGN" sign-blob --new-bundle-format --key cosign.key --tlog-upload=false \
  --bundle cosign-sign-blob-bundle.json artifact.txt > /dev/null

chmod 644 cosign-bundle.json cosign-sign-blob-bundle.json

# Hand-broken variants, derived from the cosign output.
python3 - <<'PY'
import base64, json

env = json.load(open("cosign-envelope.json"))
bundle = json.load(open("cosign-bundle.json"))
stmt = json.loads(base64.b64decode(env["payload"]))

def write(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")

def envelope_with(**kw):
    e = dict(env); e.update(kw); return e

write("broken-payload-type.json", envelope_with(payloadType="text/plain"))
write("broken-payload-not-base64.json", envelope_with(payload="%%% not base64 %%%"))
write("broken-payload-not-statement.json", envelope_with(payload=base64.b64encode(b'{"hello":"world"}').decode()))
no_subjects = dict(stmt); no_subjects["subject"] = []
write("broken-no-subjects.json", envelope_with(payload=base64.b64encode(json.dumps(no_subjects).encode()).decode()))
write("broken-no-signatures.json", envelope_with(signatures=[]))
b = dict(bundle); b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json"
write("broken-bundle-v04.json", b)
b = dict(bundle); del b["dsseEnvelope"]
write("broken-bundle-no-content.json", b)
b = json.loads(json.dumps(bundle)); b["dsseEnvelope"]["payloadType"] = "application/json"
write("broken-bundle-payload-type.json", b)
PY
