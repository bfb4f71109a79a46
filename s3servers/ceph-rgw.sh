#!/bin/bash
# Throw-away single-node Ceph (1 monitor, 1 memstore OSD, no manager) with a radosgw S3 gateway
# on 127.0.0.1, for the test suite and benchmarks. Data lives in RAM; stop removes everything.
# Needs Debian packages: ceph-mon ceph-osd radosgw (installed by ./run-tests when missing).
# usage: ceph-rgw.sh start DIR [RGW_PORT] [MON_PORT]   -> prints "RGW_ENDPOINT=... AK=... SK=..."
#        ceph-rgw.sh stop  DIR
set -euo pipefail
trap 'echo "ceph-rgw.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
cmd=$1; D=$(realpath -m "$2"); RGW_PORT=${3:-7480}; MON_PORT=${4:-6789}
AK=${RGW_ACCESS_KEY:-rgwtestak}; SK=${RGW_SECRET_KEY:-rgwtestsecret}
C="-c $D/ceph.conf"

stop() {
  [ -d "$D/run" ] || return 0
  for n in client.rgw.local osd.0 mon.a; do          # order matters: osd waits for the mon on shutdown
    f="$D/run/$n.pid"; [ -f "$f" ] || continue
    p=$(cat "$f"); kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true; rm -f "$f"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

stop; rm -rf "$D"; mkdir -p "$D"/{run,log,mon.a,osd.0,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
keyring = $D/keyring
mon data = $D/mon.\$id
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = ${MEMSTORE_BYTES:-2147483648}
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.local]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $D/rgw
EOF
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' >/dev/null
monmaptool --create --add a "v1:127.0.0.1:$MON_PORT" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon $C --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon $C -i a                                          # daemonizes
# wait until the monitor answers: an OSD created before that can start with a zero fsid and quit
for _ in $(seq 1 100); do timeout 5 ceph $C mon stat >/dev/null 2>&1 && break; sleep 0.1; done
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ID=
for _ in $(seq 1 50); do                                  # the monitor can still refuse right after "mon stat" answers
  ID=$(timeout 30 ceph $C osd new "$OSD_UUID" 2>/dev/null) && break
  ID=; sleep 0.2
done
[ -n "$ID" ] || { echo "ceph osd new failed; see $D/log" >&2; exit 1; }
ceph-osd $C -i "$ID" --mkfs --osd-uuid "$OSD_UUID" >"$D/log/osd-mkfs.out" 2>&1
for attempt in 1 2 3; do                                  # Ceph 16 sometimes loses a start-up race: retry the OSD
  ceph-osd $C -i "$ID" >"$D/log/osd.stdout" 2>&1 || true   # daemonizes
  up=
  for _ in $(seq 1 100); do timeout 10 ceph $C osd stat 2>/dev/null | grep -q "1 up" && { up=1; break; }; sleep 0.2; done
  [ -n "$up" ] && break
  echo "OSD not up (attempt $attempt)" >&2
done
[ -n "$up" ] || { echo "OSD did not come up; see $D/log" >&2; exit 1; }
# Pre-create the bucket pools: saves ~4.5 s on the first bucket and object. Best effort (RGW
# creates them itself otherwise), retried because a loaded monitor can time a command out.
for pool in default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  for _ in 1 2 3; do
    timeout 30 ceph $C osd pool create $pool 8 >/dev/null 2>&1 \
      && timeout 30 ceph $C osd pool application enable $pool rgw >/dev/null 2>&1 && break
  done || true
done
radosgw $C -n client.rgw.local >"$D/log/rgw.stdout" 2>&1  # daemonizes
up=
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && { up=1; break; }; sleep 0.2; done
[ -n "$up" ] || { echo "radosgw did not answer on port $RGW_PORT; see $D/log" >&2; tail -20 "$D/log/client.rgw.local.log" >&2 || true; exit 1; }
for attempt in 1 2 3; do
  radosgw-admin $C user create --uid=test --display-name=test --access-key="$AK" --secret="$SK" >/dev/null && break
  [ "$attempt" = 3 ] && { echo "radosgw-admin user create failed" >&2; exit 1; }
done
echo "RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT AK=$AK SK=$SK"
