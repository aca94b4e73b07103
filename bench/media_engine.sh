#!/usr/bin/env bash
# Media engine load: the release binary's hidden `bench-media` runs the real media thread on
# 127.0.0.1 with SESSIONS sessions, each looping a 3 s prompt and listening for keys (in-band
# Goertzel unless TELEPHONE_EVENT=1), against as many loopback peers that send a µ-law frame
# every 20 ms (a caller talking, pressing 5 every 5 s) and time what comes back with kernel
# receive timestamps. Prints the media thread's and the process's CPU, the send spacing
# (deviation from 20 ms, p50/p99/max), loss and keys detected. The issue's goal: the media
# thread under 40% of one core at 1,000 sessions.
#   SESSIONS=1000 SECONDS_RUN=20 TELEPHONE_EVENT=0 bench/media_engine.sh
set -euo pipefail
SESSIONS=${SESSIONS:-1000}
SECS=${SECONDS_RUN:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p flexvox
extra=()
if [ "${TELEPHONE_EVENT:-0}" = 1 ]; then extra+=(--telephone-event); fi
exec ./target/release/flexvox bench-media --sessions "$SESSIONS" --seconds "$SECS" "${extra[@]}"
