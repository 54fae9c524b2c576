#!/usr/bin/env bash
# Runs gofab's whole test suite on a fresh Debian machine with Go, as root:
# sets up the sshd testbed (tests/testbed.sh), checks formatting and vet, and
# runs every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")"
env_file=$(bash tests/testbed.sh up)
export GOFAB_TESTBED="$env_file" GOFAB_REQUIRE_TESTBED=1
# The real sops tool the testbed built: internal/data/sops's tests compare with it.
GOFAB_SOPS=$(sed -n 's/^GOFAB_SOPS=//p' "$env_file")
export GOFAB_SOPS
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 30m ./... "$@"
# The fuzz targets, each for a number of runs on top of its checked-in
# corpus. A count, not a duration: with -fuzztime 5s, Go 1.26's fuzz
# coordinator can report its own deadline as a failure when a loaded
# machine's worker is mid-run at the end (golang/go#75804, fixed in 1.27).
fuzztime=${GOFAB_FUZZTIME:-20000x}
for target in internal/base/host:FuzzParse internal/data/inventory:FuzzParse internal/data/inventory:FuzzSelect \
  internal/transport/sshconfig:FuzzResolve cmd/gofab:FuzzTaskCall cmd/gofab:FuzzSet; do
  go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "$fuzztime" "./${target%%:*}"
done
