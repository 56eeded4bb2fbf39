#!/bin/sh
# Regenerates the keys of this directory (see README.md). Needs cosign v2.6.5 and openssl. Offline.
set -eu
cd "$(dirname "$0")"
COSIGN=${COSIGN_BIN:-cosign}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" TUF_ROOT="$tmp/.sigstore" COSIGN_YES=true
rm -f cosign.key cosign.pub empty-password.key empty-password.pub legacy-cosign.key plain-ec.pem imported.key imported.pub \
  imported-ed25519.key imported-ed25519.pub imported-rsa.key imported-rsa.pub
COSIGN_PASSWORD=custody-test "$COSIGN" generate-key-pair
COSIGN_PASSWORD= "$COSIGN" generate-key-pair --output-key-prefix empty-password
# The PEM type older cosign releases wrote; same encryption, only the label differs.
sed 's/ENCRYPTED SIGSTORE PRIVATE KEY/ENCRYPTED COSIGN PRIVATE KEY/' cosign.key > legacy-cosign.key
openssl ecparam -genkey -name prime256v1 -noout -out plain-ec.pem
COSIGN_PASSWORD=custody-test "$COSIGN" import-key-pair --key plain-ec.pem --output-key-prefix imported
# The other algorithms cosign imports: Ed25519 and RSA (PKCS #8 PEMs, not kept).
openssl genpkey -algorithm ed25519 -out "$tmp/ed25519.pem"
COSIGN_PASSWORD=custody-test "$COSIGN" import-key-pair --key "$tmp/ed25519.pem" --output-key-prefix imported-ed25519
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem"
COSIGN_PASSWORD=custody-test "$COSIGN" import-key-pair --key "$tmp/rsa.pem" --output-key-prefix imported-rsa
chmod 600 ./*.key plain-ec.pem
