#!/usr/bin/env bash
# A throwaway S3-compatible server for mlcycle's tests and demos: Ceph's RADOS gateway on a
# single-node cluster (one monitor, one in-memory OSD), bound to 127.0.0.1 only.
#
#   scripts/s3-local.sh start [DIR]   install (Debian packages) when missing, start, make a user
#   scripts/s3-local.sh env   [DIR]   print the AWS_* variables for the running server
#   scripts/s3-local.sh stop  [DIR]   stop every daemon it started
#
# DIR defaults to /tmp/mlcycle-s3; the port to 7480 (MLCYCLE_S3_PORT). Objects live in RAM
# (memstore, capped at 2 GiB): a restart starts empty. Starting takes about 20-30 s.
set -euo pipefail

cmd=${1:-start}
dir=${2:-/tmp/mlcycle-s3}
port=${MLCYCLE_S3_PORT:-7480}
access_key=mlcycle-test
secret_key=mlcycle-test-secret
conf="$dir/ceph.conf"

print_env() {
  echo "export AWS_ENDPOINT_URL=http://127.0.0.1:$port"
  echo "export AWS_ACCESS_KEY_ID=$access_key"
  echo "export AWS_SECRET_ACCESS_KEY=$secret_key"
  echo "export AWS_DEFAULT_REGION=us-east-1"
}

answering() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; }

stop() {
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}

case "$cmd" in
  env) print_env; exit 0 ;;
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|env|stop [DIR]" >&2; exit 2 ;;
esac

if answering; then
  echo "an S3 server already answers on 127.0.0.1:$port" >&2
  exit 0
fi

if ! command -v radosgw >/dev/null 2>&1; then
  echo "installing Ceph's RADOS gateway from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >/dev/null \
    || { apt-get update -qq >/dev/null && \
         apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw ceph-common >/dev/null; }
fi

stop
rm -rf "$dir"
mkdir -p "$dir"/mon "$dir"/osd/ceph-0 "$dir"/rgw "$dir"/run "$dir"/log
fsid=$(cat /proc/sys/kernel/random/uuid)

cat >"$conf" <<CONF
[global]
fsid = $fsid
mon initial members = a
mon host = v2:127.0.0.1:3300,v1:127.0.0.1:6789
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 256
osd max object namespace len = 64
run dir = $dir/run
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
[client.admin]
keyring = $dir/keyring
[osd]
keyring = $dir/osd/\$cluster-\$id/keyring
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
keyring = $dir/rgw/keyring
# Deleted objects are freed within a minute, not two hours: the OSD lives in 2 GiB of RAM
# shared by every suite (and the 1 GB benchmark) that deletes what it wrote.
rgw gc obj min wait = 30
rgw gc processor period = 30
CONF

ceph() { timeout 30 "$(type -P ceph)" -c "$conf" "$@"; }

# The monitor, with an admin key.
ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
monmaptool --create --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' --fsid "$fsid" \
  "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
ceph-mon -c "$conf" -i a
for _ in $(seq 30); do ceph -s >/dev/null 2>&1 && break; sleep 1; done

# One OSD keeping objects in memory, placed under a host in the default root.
ceph osd create >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --mkkey --no-mon-config 2>/dev/null
ceph auth add osd.0 osd 'allow *' mon 'allow profile osd' -i "$dir/osd/ceph-0/keyring" >/dev/null 2>&1
ceph osd crush add-bucket localhost host >/dev/null 2>&1
ceph osd crush move localhost root=default >/dev/null 2>&1
ceph osd crush add osd.0 1.0 host=localhost >/dev/null 2>&1
ceph-osd -c "$conf" -i 0 2>/dev/null

# The gateway, and one S3 user.
ceph auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' -o "$dir/rgw/keyring"
radosgw -c "$conf" -n client.rgw.a
timeout 90 radosgw-admin -c "$conf" user create --uid=mlcycle --display-name=mlcycle \
  --access-key="$access_key" --secret="$secret_key" >/dev/null

for _ in $(seq 90); do
  if answering; then
    echo "S3 (Ceph RADOS gateway) ready at http://127.0.0.1:$port" >&2
    print_env
    exit 0
  fi
  sleep 1
done
echo "the RADOS gateway did not answer on 127.0.0.1:$port; logs in $dir/log" >&2
exit 1
