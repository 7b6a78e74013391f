#!/usr/bin/env bash
# The NBD throughput experiment behind BENCHMARKS.md "Serving over NBD":
# fio random 4 KiB writes (ioengine=nbd, each block of a $REGION region (default 32 MiB) once, random
# order) at queue depth 1 and 8, against the volume before the split (vlun-a), VLUN B
# in the backup window (after the split, before retire), and VLUN B after retire, for
# each variant; then the same job against a plain raw file over qemu-nbd and over
# nbdkit's file plugin (the baselines). Prints one CSV line per run:
#   target,phase,iodepth,iops
# Needs: release builds (cargo build --release -p owm -p owm-serve), nbdkit, qemu-nbd,
# fio, python3. Usage: serve/bench/fio-phases.sh [WORKDIR]   (default: a temp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
OWM=$PWD/target/release/owm
export OWM_NBDKIT_PLUGIN=$PWD/target/release/libowm_nbdkit.so
W=${1:-$(mktemp -d)}
mkdir -p "$W"
SIZE=$((64 << 20))
REGION=${REGION:-32m}

iops() { # URI DEPTH
    fio --name=w --ioengine=nbd --uri="$1" --rw=randwrite --bs=4k --iodepth="$2" \
        --size=$REGION --output-format=json 2>/dev/null |
        python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["iops"]))'
}

wait_sock() { for _ in $(seq 500); do [ -S "$1" ] && return 0; sleep 0.02; done; return 1; }

serve() { # VARIANT -> starts a fresh device, sets PID and SOCK
    rm -rf "$W/dev" "$W/nbd.sock"
    "$OWM" serve "$W/dev" --create --variant "$1" --size-bytes $SIZE --socket "$W/nbd.sock" 2>/dev/null &
    PID=$!
    wait_sock "$W/nbd.sock"
    wait_sock "$W/dev/control.sock"
    SOCK=$W/nbd.sock
}

stop() { kill -TERM "$PID"; wait "$PID" || true; }

echo "target,phase,iodepth,iops"
for v in mirroring logging cow; do
    for qd in 1 8; do
        serve $v
        echo "$v,before split,$qd,$(iops "nbd+unix:///vlun-a?socket=$SOCK" $qd)"
        "$OWM" device split --dir "$W/dev" >/dev/null
        echo "$v,backup window,$qd,$(iops "nbd+unix:///vlun-b?socket=$SOCK" $qd)"
        "$OWM" device backup --to "$W/archive.img" --dir "$W/dev" >/dev/null
        "$OWM" device retire --dir "$W/dev" >/dev/null
        echo "$v,after retire,$qd,$(iops "nbd+unix:///vlun-b?socket=$SOCK" $qd)"
        stop
    done
done
for qd in 1 8; do
    rm -f "$W/raw.img" "$W/raw.sock"
    truncate -s $SIZE "$W/raw.img"
    qemu-nbd -f raw -k "$W/raw.sock" -x raw -t "$W/raw.img" &
    QPID=$!
    wait_sock "$W/raw.sock"
    echo "raw file (qemu-nbd),-,$qd,$(iops "nbd+unix:///raw?socket=$W/raw.sock" $qd)"
    kill -TERM $QPID; wait $QPID || true
    rm -f "$W/raw.img" "$W/raw.sock"
    truncate -s $SIZE "$W/raw.img"
    nbdkit --foreground --unix "$W/raw.sock" file "$W/raw.img" &
    QPID=$!
    wait_sock "$W/raw.sock"
    echo "raw file (nbdkit file),-,$qd,$(iops "nbd+unix:///?socket=$W/raw.sock" $qd)"
    kill -TERM $QPID; wait $QPID || true
done
