#!/usr/bin/env bash
# Call-setup rate: SIPp places RATE calls/s for SECONDS (INVITE → 200 → ACK → HOLD_MS → BYE,
# no media back) against the release binary, whose app answers each call with a Pause. Prints
# the calls completed and failed, the achieved rate, and flexvox's own CPU over the run (from
# /proc/PID/stat utime+stime), so SIPp's share of the machine is not counted.
#   RATE=200 SECONDS=20 HOLD_MS=1000 TRANSPORT=u1 bench/sip_cps.sh   (TRANSPORT=t1: TCP)
set -euo pipefail
RATE=${RATE:-100}
SECS=${SECONDS_RUN:-${SECONDS:-20}}
HOLD_MS=${HOLD_MS:-1000}
TRANSPORT=${TRANSPORT:-u1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q -p flexvox
dir=$(mktemp -d)
http_port=${HTTP_PORT:-18490}
sip_port=${SIP_PORT:-15490}
app_port=${APP_PORT:-18491}
calls=$((RATE * SECS))

# The app: answers every call with a long Pause, so SIPp's BYE ends it.
python3 - "$app_port" >/dev/null 2>&1 <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class App(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'<Response><Pause length="60"/></Response>'
        self.send_response(200)
        self.send_header("content-type", "application/xml")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
PY
app_pid=$!

RUST_LOG=warn ./target/release/flexvox serve --http-listen "127.0.0.1:$http_port" \
  --sip-listen "127.0.0.1:$sip_port" --rtp-ports 32000-39999 --data-dir "$dir" \
  --max-calls 100000 2>"$dir/server.log" >/dev/null &
pid=$!
trap 'kill $pid $app_pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -f "$dir/credentials.json" ] && break; sleep 0.1; done
read -r login password did_sid < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["flexml_api"]["login"], c["flexml_api"]["password"], c["demo_did"]["did_sid"])' "$dir/credentials.json")
curl -sf -u "$login:$password" -X PATCH -H 'content-type: application/json' \
  -d "{\"url\": \"http://127.0.0.1:$app_port/app\"}" \
  "http://127.0.0.1:$http_port/flexml/v1/dids/$did_sid" >/dev/null

sed "s/HOLD_MS/$HOLD_MS/" "$root/bench/sipp/uac_cps.xml" >"$dir/uac_cps.xml"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
cpu0=$(ticks)
t0=$(date +%s.%N)
status=0
(cd "$dir" && timeout -k 5 $((SECS * 3 + 60)) sipp "127.0.0.1:$sip_port" -sf "$dir/uac_cps.xml" \
  -s 15550000001 -i 127.0.0.1 -p $((sip_port + 1)) -t "$TRANSPORT" -r "$RATE" -m "$calls" \
  -l $((RATE * (HOLD_MS / 1000 + 5))) -nostdin -trace_stat -fd 1 \
  -trace_err >/dev/null) || status=$?
t1=$(date +%s.%N)
cpu1=$(ticks)
python3 - "$dir" "$calls" "$t0" "$t1" "$cpu0" "$cpu1" "$hz" "$RATE" "$HOLD_MS" "$TRANSPORT" <<'PY'
import glob, sys
d, calls, t0, t1, c0, c1, hz, rate, hold, transport = sys.argv[1:]
rows = [l.strip().split(";") for f in glob.glob(f"{d}/*_.csv") for l in open(f) if l.strip()]
head, last = rows[0], rows[-1]
col = lambda name: int(last[head.index(name)])
ok, failed = col("SuccessfulCall(C)"), col("FailedCall(C)")
wall = float(t1) - float(t0)
cpu = (float(c1) - float(c0)) / float(hz)
print(f"transport {transport}, offered {rate} calls/s for {int(calls)//int(rate)} s, {hold} ms each")
print(f"calls: {ok} completed, {failed} failed, in {wall:.1f} s wall")
print(f"flexvox CPU: {cpu:.2f} s = {100*cpu/wall:.1f}% of one core on average, {1000*cpu/max(ok,1):.3f} ms per call")
PY
grep -c -i "error\|panic" "$dir/server.log" | xargs -I{} echo "server log error/panic lines: {}"
exit $status
