#!/usr/bin/env bash
# Whole-server load figures for an IVR call (Say, then Gather with a Say inside, held by the
# caller for HOLD_MS, default 10 s), placed by SIPp against the release binary, with a local
# app server returning the document. Modes (first argument):
#   latency RATE [CALLS]   setup latency p50/p99 at RATE calls/s: INVITE → 200 OK and ACK →
#                          first packet of the (cached) Say, from flexvox's "call timing" lines
#   concurrent N           N concurrent calls (rate N/10 per s): flexvox CPU per concurrent
#                          call over the steady window and memory (RSS) per call
#   maxrate R1 R2 ...      the highest of the rates run for 20 s each with no failed call
# Everything runs on this machine, SIPp included; RTP from flexvox goes to SIPp's discard port.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:?usage: bench/ivr_load.sh latency RATE [CALLS] | concurrent N | maxrate R1 R2 ...}
shift
HOLD_MS=${HOLD_MS:-10000}
cargo build --release -q -p flexvox
dir=$(mktemp -d)
http_port=${HTTP_PORT:-18580}
sip_port=${SIP_PORT:-15580}
app_port=${APP_PORT:-18581}
ulimit -n 65536 2>/dev/null || true

cat >"$dir/app.py" <<'PY'
import http.server, sys
DOC = (b'<Response><Say>Welcome to the load test. Please listen to this message.</Say>'
       b'<Gather numDigits="4" timeout="30"><Say>Enter your four digit code now.</Say></Gather>'
       b'<Say>Goodbye</Say></Response>')
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(DOC)))
        self.end_headers()
        self.wfile.write(DOC)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$dir/app.py" "$app_port" &
app_pid=$!
./target/release/flexvox serve --http-listen "127.0.0.1:$http_port" --sip-listen "127.0.0.1:$sip_port" \
  --rtp-ports 30000-39999 --data-dir "$dir" 2>"$dir/server.log" >/dev/null &
pid=$!
trap 'kill $pid $app_pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -f "$dir/credentials.json" ] && break; sleep 0.1; done
read -r login password did_sid < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["flexml_api"]["login"], c["flexml_api"]["password"], c["demo_did"]["did_sid"])' "$dir/credentials.json")
curl -sf -u "$login:$password" -X PATCH -H 'Content-Type: application/json' \
  -d "{\"url\": \"http://127.0.0.1:$app_port/ivr\"}" "http://127.0.0.1:$http_port/flexml/v1/dids/$did_sid" >/dev/null

# Runs SIPp; prints "ok" or "failed" and leaves its stats in $dir.
sipp_run() { # rate calls
  local limit=$(( $1 * (HOLD_MS / 1000 + 5) + 10 ))
  if (cd "$dir" && timeout -k 5 900 sipp "127.0.0.1:$sip_port" -sf "$root/bench/sipp/uac_ivr.xml" \
      -s 15550000001 -i 127.0.0.1 -p $((sip_port + 1)) -m "$2" -l "$limit" -r "$1" \
      -key rtp_port 9 -d "$HOLD_MS" -nostdin -max_socket 60000 \
      -trace_stat -fd 1 -trace_err >/dev/null 2>&1); then echo ok; else echo failed; fi
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# One call first so the prompts are synthesised and cached, as in production.
[ "$(sipp_run 1 1)" = ok ] || { echo "warm-up call failed"; tail -20 "$dir/server.log"; exit 1; }
: >"$dir/server.log"

case "$mode" in
latency)
  rate=$1; calls=${2:-$((rate * 20))}
  result=$(sipp_run "$rate" "$calls")
  python3 - "$dir/server.log" "$rate" "$result" <<'PY'
import re, sys
rows = [dict(re.findall(r'(\w+)=(\d+)', l)) for l in open(sys.argv[1]) if "call timing" in l]
def pct(v, p): v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]
print(f"rate {sys.argv[2]} calls/s, {len(rows)} calls measured, SIPp: {sys.argv[3]}")
for key in ("invite_to_200_us", "ack_to_first_audio_us"):
    v = [int(r[key]) / 1000 for r in rows if key in r]
    print(f"  {key[:-3]:<22} p50 {pct(v, 50):7.2f} ms  p99 {pct(v, 99):7.2f} ms  max {max(v):7.2f} ms")
PY
  ;;
concurrent)
  n=$1; rate=$(( n * 1000 / HOLD_MS )); [ "$rate" -ge 1 ] || rate=1
  idle_rss=$(rss_kib)
  sipp_run "$rate" "$((n * 2))" >"$dir/result" &
  sipp_pid=$!
  # Ramp-up takes HOLD_MS; measure over the next half hold while N calls are up.
  sleep $(( HOLD_MS / 1000 + 1 ))
  t0=$(cpu_ticks); s0=$(date +%s.%N); rss=$(rss_kib)
  sleep $(( HOLD_MS / 2000 ))
  t1=$(cpu_ticks); s1=$(date +%s.%N)
  wait $sipp_pid
  hz=$(getconf CLK_TCK)
  python3 - "$n" "$t0" "$t1" "$s0" "$s1" "$hz" "$idle_rss" "$rss" "$(cat "$dir/result")" <<'PY'
import sys
n, t0, t1, s0, s1, hz, idle, rss, result = sys.argv[1:]
n = int(n); cpu = (int(t1) - int(t0)) / int(hz); wall = float(s1) - float(s0)
share = cpu / wall
print(f"{n} concurrent IVR calls (SIPp: {result}): flexvox used {share * 100:.1f}% of one core "
      f"= {share * 100 / n:.3f}% of a core per call; RSS {int(rss) / 1024:.1f} MiB "
      f"(idle {int(idle) / 1024:.1f} MiB) = {(int(rss) - int(idle)) / n:.1f} KiB per call")
PY
  ;;
maxrate)
  best=0
  for rate in "$@"; do
    result=$(sipp_run "$rate" "$((rate * 20))")
    echo "rate $rate calls/s for 20 s, ${HOLD_MS} ms calls: $result"
    [ "$result" = ok ] || break
    best=$rate
  done
  echo "highest rate with no failed call: $best calls/s"
  ;;
esac
