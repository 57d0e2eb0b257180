#!/usr/bin/env bash
# Signet's whole test suite, on a fresh machine or an old one.
#
# Installs what the tests need when it is missing (idempotent): OpenSSL, Python (pyHanko, reportlab,
# aiosmtpd as an SMTP sink), poppler-utils
# (pdfsig), qpdf, Ghostscript and PostgreSQL (started on loopback) from Debian, pyHanko and its CLI from PyPI, cargo-fuzz from
# crates.io. Then: formatting, clippy with warnings
# as errors, every unit and integration test (NIST PKITS is fetched from PyPI by its test), and
# a short fuzz run of every fuzz target (a dev build without ASan, which compiles in minutes: our
# crates forbid unsafe code, and the
# smoke run is after panics, hangs and memory blow-ups). Ends with one "N passed, M failed" line.
#
# FUZZ_SECONDS (default 20) sets the fuzz time per target; FUZZ_SECONDS=0 skips fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase prints how long the one before it took, and the total at the end.
suite_start=$SECONDS
phase_start=$SECONDS
phase_name=""
log() {
  if [ -n "$phase_name" ]; then printf '== %s took %d s\n' "$phase_name" $((SECONDS - phase_start)); fi
  phase_name=$*
  phase_start=$SECONDS
  printf '\n== %s\n' "$*"
}

log "tools"
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
command -v cc >/dev/null || missing+=(build-essential)
command -v pdfsig >/dev/null || missing+=(poppler-utils)
command -v qpdf >/dev/null || missing+=(qpdf)
command -v gs >/dev/null || missing+=(ghostscript)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# LibreOffice Writer (headless) is one of the PDF producers in the PAdES corpus.
if ! command -v soffice >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui
fi
if ! python3 -c 'import pyhanko, pyhanko_certvalidator' 2>/dev/null || ! command -v pyhanko >/dev/null; then
  python3 -m pip install -q 'pyhanko==0.38.0' 'pyhanko-cli'
fi
python3 -c 'import reportlab' 2>/dev/null || python3 -m pip install -q 'reportlab==5.1.0'
# An SMTP sink for the e-mail notification tests.
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q 'aiosmtpd==1.4.6'
openssl version
echo "$(qpdf --version 2>&1 | sed -n 1p)"
echo "$(pdfsig -v 2>&1 | sed -n 1p)"
echo "pyHanko $(python3 -m pip show pyhanko 2>/dev/null | sed -n 's/^Version: //p')"

# PostgreSQL for the server tests: every API test runs on SQLite and on PostgreSQL.
SIGNET_TEST_POSTGRES_URL=$(scripts/postgres.sh)
export SIGNET_TEST_POSTGRES_URL SIGNET_TEST_REQUIRE_POSTGRES=1
echo "PostgreSQL at $SIGNET_TEST_POSTGRES_URL"

log "format"
cargo fmt --all -- --check

log "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "tests"
out=$(mktemp)
set +e
cargo test --workspace --locked 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo 'test result: [A-Za-z]+\. [0-9]+ passed' "$out" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$out" | awk '{s+=$1} END {print s+0}')
rm -f "$out"
if [ "$status" -ne 0 ]; then
  echo "tests: $passed passed, $failed failed"
  exit "$status"
fi

fuzz_seconds=${FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
  log "fuzz smoke ($fuzz_seconds s per target)"
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  # Seeds for the CMS, X.509 and PKCS#12 readers from what Signet and OpenSSL make now.
  scripts/fuzz-seeds.sh target/debug/signet
  for target in cms_verify x509_parse ber_normalize pkcs12_parse pdf_sign pdf_validate server_inputs tsa_messages http_responses forms; do
    seeds=()
    case "$target" in
      pdf_*) mkdir -p "fuzz/corpus/$target"; seeds=("fuzz/corpus/$target" fuzz/seeds/pdf) ;;
      cms_verify | x509_parse | ber_normalize | pkcs12_parse)
        mkdir -p "fuzz/corpus/$target"; seeds=("fuzz/corpus/$target" "fuzz/seeds/generated/$target") ;;
      http_responses) mkdir -p "fuzz/corpus/$target"; seeds=("fuzz/corpus/$target" fuzz/seeds/http) ;;
      forms) mkdir -p "fuzz/corpus/$target"; seeds=("fuzz/corpus/$target" fuzz/seeds/forms) ;;
    esac
    RUSTC_BOOTSTRAP=1 cargo fuzz run --dev --sanitizer none --fuzz-dir fuzz "$target" "${seeds[@]}" -- \
      -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 | tail -n 3
    passed=$((passed + 1))
  done
fi

log "done"
echo "whole suite: $((SECONDS - suite_start)) s"
echo
echo "tests: $passed passed, $failed failed"
