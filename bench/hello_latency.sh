#!/usr/bin/env bash
# Setup latency of the demo hello app over N calls (default 20, two at a time) placed by SIPp:
# INVITE → 200 OK and ACK → first RTP packet / first packet of speech, as flexvox measures them
# (its "call timing" log lines), plus SIPp's own INVITE → 200 round trip. Prints medians.
set -euo pipefail
N=${N:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p flexvox
dir=$(mktemp -d)
http_port=${HTTP_PORT:-18480}
sip_port=${SIP_PORT:-15480}
./target/release/flexvox serve --http-listen "127.0.0.1:$http_port" --sip-listen "127.0.0.1:$sip_port" \
  --rtp-ports 32000-32400 --data-dir "$dir" 2>"$dir/server.log" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -f "$dir/credentials.json" ] && break; sleep 0.1; done
# The caller's RTP goes to the discard port: this measures flexvox, not a receiver.
(cd "$dir" && timeout -k 5 600 sipp "127.0.0.1:$sip_port" -sf "$root/crates/flexvox/tests/sipp/uac_hello.xml" \
  -s 15550000001 -i 127.0.0.1 -p $((sip_port + 1)) -m "$N" -l 2 -r 2 -key rtp_port 9 \
  -nostdin -trace_rtt -rtt_freq 1 >/dev/null) || { echo "SIPp reported failed calls"; exit 1; }
python3 - "$dir" <<'PY'
import glob, re, statistics, sys
d = sys.argv[1]
rows = [dict(re.findall(r'(\w+)=(\d+)', l)) for l in open(f"{d}/server.log") if "call timing" in l]
def ms(key, rs): return [int(r[key]) / 1000 for r in rs]
print(f"calls measured: {len(rows)} (the first synthesises the prompt; the rest hit the TTS cache)")
for key in ("invite_to_200_us", "ack_to_first_rtp_us", "ack_to_first_audio_us"):
    v = ms(key, rows)
    print(f"{key[:-3]:<22} median {statistics.median(v):7.2f} ms  min {min(v):7.2f}  max {max(v):7.2f}  first call {v[0]:7.2f}")
rtt = []
for f in glob.glob(f"{d}/*_rtt.csv"):
    for line in open(f).readlines()[1:]:
        parts = line.strip().split(";")
        if len(parts) >= 3:
            rtt.append(float(parts[2]))
if rtt:
    print(f"{'sipp_invite_to_200':<22} median {statistics.median(rtt):7.2f} ms  (SIPp's round trip, {len(rtt)} calls)")
PY
