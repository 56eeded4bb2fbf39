#!/bin/sh
# Regenerates the keys of this directory (see README.md). Needs cosign v2.6.5 and openssl. Offline.
set -eu
cd "$(dirname "$0")"
COSIGN=${COSIGN_BIN:-cosign}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" TUF_ROOT="$tmp/.sigstore" COSIGN_YES=true
rm -f cosign.key cosign.pub empty-password.key empty-password.pub legacy-cosign.key plain-ec.pem imported.key imported.pub
COSIGN_PASSWORD=custody-test "$COSIGN" generate-key-pair
COSIGN_PASSWORD= "$COSIGN" generate-key-pair --output-key-prefix empty-password
# The PEM type older cosign releases wrote; same encryption, only the label differs.
sed 's/ENCRYPTED SIGSTORE PRIVATE KEY/ENCRYPTED COSIGN PRIVATE KEY/' cosign.key > legacy-cosign.key
openssl ecparam -genkey -name prime256v1 -noout -out plain-ec.pem
COSIGN_PASSWORD=custody-test "$COSIGN" import-key-pair --key plain-ec.pem --output-key-prefix imported
chmod 600 ./*.key plain-ec.pem
