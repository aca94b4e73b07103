#!/usr/bin/env bash
# GET /flexml/v1/dids with a filter and paging, on a store holding 100,000 DIDs and 100,000
# scheduled calls, measured with wrk (Debian package `wrk`) against the release binary.
#   bench/api_list.sh sqlite
#   bench/api_list.sh postgres     (needs a local PostgreSQL; creates database flexvox_bench)
# N (rows of each kind, default 100000), DURATION (s, default 20), CONNECTIONS (default 16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
db=${1:-sqlite}
N=${N:-100000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release -q -p flexvox
dir=$(mktemp -d)
http_port=${HTTP_PORT:-18680}
extra=()
if [ "$db" = postgres ]; then
  pg_ctlcluster 15 main start 2>/dev/null || true
  su postgres -c "psql -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flexvox') THEN CREATE ROLE flexvox LOGIN PASSWORD 'flexvox' CREATEDB; END IF; END \\\$\\\$;\""
  su postgres -c "psql -qc 'DROP DATABASE IF EXISTS flexvox_bench'" && su postgres -c "psql -qc 'CREATE DATABASE flexvox_bench OWNER flexvox'"
  extra=(--database-url "postgres://flexvox:flexvox@127.0.0.1:5432/flexvox_bench")
fi
./target/release/flexvox serve --http-listen "127.0.0.1:$http_port" --sip-listen 127.0.0.1:0 \
  --data-dir "$dir" "${extra[@]}" 2>"$dir/server.log" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
for _ in $(seq 200); do [ -f "$dir/credentials.json" ] && break; sleep 0.1; done

# Seeds through the APIs (as a user would), 8 requests in flight.
python3 - "$dir/credentials.json" "$http_port" "$N" <<'PY'
import base64, concurrent.futures as cf, http.client, json, sys, threading, time
creds = json.load(open(sys.argv[1])); port = int(sys.argv[2]); n = int(sys.argv[3])
token = creds["core_api_token"]; fx = creds["flexml_api"]
basic = "Basic " + base64.b64encode(f'{fx["login"]}:{fx["password"]}'.encode()).decode()
local = threading.local()
def call(method, path, body, auth):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection("127.0.0.1", port)
    local.c.request(method, path, json.dumps(body), {"Authorization": auth, "Content-Type": "application/json"})
    r = local.c.getresponse(); data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]}")
    return json.loads(data)
bearer = f"Bearer {token}"
groups = call("GET", "/core/v2/trunk_groups", None, bearer)["items"]
tg = groups[0]["trunk_group_sid"]
t0 = time.time()
with cf.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda i: call("POST", "/core/v2/phonenumber/dids",
        {"phonenumber": f"1{2000000000 + i}", "trunk_group_sid": tg}, bearer), range(n)))
    list(pool.map(lambda i: call("POST", "/flexml/v1/calls",
        {"calling_did": "15550000001", "called_did": f"1{3000000000 + i}", "delay": 86400 * 30}, basic), range(n)))
print(f"seeded {n} DIDs and {n} scheduled calls in {time.time() - t0:.0f} s")
PY

login=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["flexml_api"]; print(c["login"] + ":" + c["password"])' "$dir/credentials.json")
auth=$(printf %s "$login" | base64 -w0)
# A filter on an indexed prefix and a page deep in the result.
url="http://127.0.0.1:$http_port/flexml/v1/dids?filter=phonenumber+like+%271200001%25%27&limit=100&offset=500&order=phonenumber+desc"
curl -sf -H "Authorization: Basic $auth" "$url" | python3 -c 'import json,sys; b=json.load(sys.stdin); print("page:", b["count"], "items of", b["total"], "matching")'
echo "wrk: $db, $CONNECTIONS connections, ${DURATION} s"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Basic $auth" "$url" \
  | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
