#!/usr/bin/env bash
# Seed corpora for the fuzz targets that read CMS, X.509 and PKCS#12, made afresh from what
# Signet and OpenSSL produce now (quickstart's CA, certificates and detached signature; OpenSSL's
# CMS, certificates of every key type, PKCS#12 bundles with modern and legacy encryption):
#   scripts/fuzz-seeds.sh [path/to/signet]   → fuzz/seeds/generated/<target>/
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/signet}
out=fuzz/seeds/generated
rm -rf "$out"
mkdir -p "$out"/{cms_verify,x509_parse,pkcs12_parse,ber_normalize}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" quickstart --dir "$tmp/qs" >/dev/null 2>&1
cp "$tmp"/qs/ca/root.crt "$tmp"/qs/ca/issuing.crt "$tmp"/qs/organisation.crt "$out/x509_parse/"
cp "$tmp"/qs/*.p7s "$out/cms_verify/"
cp "$tmp"/qs/*.p7s "$out/ber_normalize/"
cd "$tmp"
echo "a document to sign" > doc.txt
# The pkcs12_parse target opens bundles with the password "fuzz".
n=0
for alg in "rsa:2048" "ec -pkeyopt ec_paramgen_curve:P-256" "ec -pkeyopt ec_paramgen_curve:P-384" "ed25519"; do
  n=$((n + 1))
  name="key$n-$(echo "$alg" | cut -d' ' -f1 | tr -c 'a-z0-9' '-')"
  # shellcheck disable=SC2086
  openssl req -x509 -newkey $alg -nodes -subj "/CN=Seed $name/O=Seed" -days 30 \
    -keyout "$name.key" -out "$name.pem" 2>/dev/null
  openssl x509 -in "$name.pem" -outform DER -out "$OLDPWD/$out/x509_parse/$name.der"
  openssl cms -sign -binary -in doc.txt -signer "$name.pem" -inkey "$name.key" -outform DER \
    -out "$OLDPWD/$out/cms_verify/$name.p7s" 2>/dev/null || true
  openssl cms -sign -binary -nodetach -in doc.txt -signer "$name.pem" -inkey "$name.key" -outform DER \
    -out "$OLDPWD/$out/ber_normalize/$name-attached.p7s" 2>/dev/null || true
  openssl pkcs12 -export -inkey "$name.key" -in "$name.pem" -passout pass:fuzz -iter 2048 \
    -out "$OLDPWD/$out/pkcs12_parse/$name-aes.p12"
  openssl pkcs12 -export -inkey "$name.key" -in "$name.pem" -passout pass:fuzz -iter 2048 \
    -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 \
    -out "$OLDPWD/$out/pkcs12_parse/$name-3des.p12" 2>/dev/null || true
done
cd "$OLDPWD"
echo "fuzz seeds: $(find "$out" -type f | wc -l) files in $out"
