#!/bin/sh
# Starts the Linux binary for this machine's CPU. A bundle's manifest can
# pick a command per operating system but not per CPU, so on Linux it runs
# this script (as an argument to /bin/sh: the script need not be
# executable). macOS has one universal binary, and Windows one amd64 binary
# (Windows on Arm emulates it).
set -eu
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
case $(uname -m) in
x86_64 | amd64) bin=$dir/amd64/skimmer-mcp ;;
aarch64 | arm64) bin=$dir/arm64/skimmer-mcp ;;
*)
  echo "skimmer-mcp: this bundle has no binary for a $(uname -m) CPU; build one with go install (see the README)" >&2
  exit 1
  ;;
esac
# Some hosts unpack a bundle without execute bits.
[ -x "$bin" ] || chmod +x "$bin" 2>/dev/null || true
exec "$bin" "$@"
