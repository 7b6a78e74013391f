#!/usr/bin/env bash
# The calibration experiment behind BENCHMARKS.md "Calibration": fio random 4 KiB
# writes (ioengine=nbd; each block of a $REGION_MIB MiB region, default 16, written once
# in random order, fio's random map) at queue depth 1 and 8, for each variant, in three
# phases of one device: the volume before the split (export `vlun`, the single volume),
# VLUN B in the backup window (after the split, VLUN A not yet backed up or retired),
# and VLUN B after the backup and retire; the same job against a plain raw file over
# nbdkit's file plugin and over qemu-nbd (the baselines); and `owm calibrate`, which
# measures the file store here and runs the simulator on the same pattern (the
# prediction, target `sim <variant>`; `sim without journal <variant>`: the same profile
# priced on a device without the metadata journal, the model before its syncs were
# counted), given the baseline's latency as the time a
# request spends outside the device. $REPEATS rounds (default 3), each round every
# target in turn, so measurement and prediction run side by side under the same load.
#
# Each phase also keeps the served engine's own barrier timings (`owm device timings`,
# in WORKDIR/timings/ and one line each of WORKDIR/barriers.csv) and the prediction
# priced with them (target `sim served <variant>`): the model given the barrier latency
# of that moment, where `sim <variant>` takes it from `owm calibrate`'s separate loop.
#
# Prints one CSV line per fio run or predicted cell (the load average on stderr):
#   round,target,phase,iodepth,iops,lat_us_mean
# Then `--summary RUN.csv` gives the medians and spreads, the slowdowns against the
# phase before the split, the ratio to the raw file, and measured vs predicted.
#
# Needs: release builds (cargo build --release -p owm -p owm-serve; $BIN names another
# directory holding owm and libowm_nbdkit.so), nbdkit, qemu-nbd, fio, python3.
# Usage: serve/bench/fio-phases.sh [WORKDIR] > run.csv   (default: a temporary directory)
#        serve/bench/fio-phases.sh --summary run.csv [WORKDIR/barriers.csv]
#        serve/bench/fio-phases.sh --parse FIO_OUTPUT   (one fio run's JSON output, with
#                                   any preamble -> iops,lat_us_mean)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

# fio's NBD engine prints "connected to NBD server" (and may print other lines) before
# the JSON document: the document is everything from the first line starting with '{'.
parse() { # FILE|- -> "iops,lat_us_mean"
    python3 -c '
import json, sys
text = open(sys.argv[1]).read() if sys.argv[1] != "-" else sys.stdin.read()
lines = text.splitlines(keepends=True)
start = next((i for i, l in enumerate(lines) if l.startswith("{")), None)
if start is None:
    sys.exit("fio output holds no JSON document (fio failed?):\n" + text[-2000:])
w = json.loads("".join(lines[start:]))["jobs"][0]["write"]
if w["total_ios"] == 0 or w["iops"] <= 0:
    sys.exit("fio wrote nothing")
print("%d,%.1f" % (round(w["iops"]), w["lat_ns"]["mean"] / 1000.0))
' "$1"
}

summary() { # RUN.csv [BARRIERS.csv] -> medians and spreads; slowdowns; ratio to raw;
    # measured vs predicted; the served engine's barriers per phase
    python3 - "$@" <<'PY'
import csv, statistics, sys
RENAMED = {"lat_mean_us": "lat_us_mean", "engine_write_mean_us": "engine_write_us_mean",
           "image_flush_mean_us": "image_flush_us_mean", "journal_sync_mean_us": "journal_sync_us_mean"}
def read(path):
    """The rows of PATH; a column by its name before the unit came before the statistic
    is refused, naming the new name."""
    r = csv.DictReader(l for l in open(path) if not l.startswith("#"))
    for c in r.fieldnames or []:
        if c in RENAMED:
            sys.exit("%s: column `%s` is now `%s`; rename it in the header" % (path, c, RENAMED[c]))
    return list(r)
rows = read(sys.argv[1])
cells = {}
for r in rows:
    k = (r["target"], r["phase"], r["iodepth"])
    cells.setdefault(k, {})[r["round"]] = (float(r["iops"]), float(r["lat_us_mean"]))
med = statistics.median
def per_round(a, b, f):
    """f over the rounds both cells have: the median, the smallest and the largest."""
    xs = [f(a[k], b[k]) for k in a if k in b]
    return (med(xs), min(xs), max(xs)) if xs else None
def fmt(t, digits=2):
    return "" if t is None else "%.*f (%.*f-%.*f)" % (digits, t[0], digits, t[1], digits, t[2])
print("target,phase,iodepth,rounds,iops median (min-max),lat_us_mean median (min-max),"
      "slowdown vs before split,iops / raw nbdkit file")
for (t, p, d), v in cells.items():
    iops = [x for x, _ in v.values()]
    lat = [y for _, y in v.values()]
    before = cells.get((t, "before split", d))
    slow = per_round(v, before, lambda x, b: x[1] / b[1]) if before and p != "before split" else None
    raw = cells.get(("raw file (nbdkit file)", "-", d))
    real = not t.startswith(("sim", "raw"))
    ratio = per_round(v, raw, lambda x, b: x[0] / b[0]) if raw and real else None
    print('%s,%s,%s,%d,"%s","%s","%s","%s"' % (t, p, d, len(v),
          fmt((med(iops), min(iops), max(iops)), 0), fmt((med(lat), min(lat), max(lat)), 1),
          fmt(slow), fmt(ratio)))
print()
print("variant,phase,iodepth,measured slowdown,predicted slowdown,predicted / measured,"
      "measured lat_us_mean,predicted lat_us_mean,predicted / measured,"
      "without journal: predicted slowdown,predicted / measured,"
      "served barriers: predicted slowdown,predicted / measured,predicted lat_us_mean,predicted / measured")
def slowdown(t, p, d):
    v, b = cells.get((t, p, d)), cells.get((t, "before split", d))
    return per_round(v, b, lambda x, y: x[1] / y[1]) if v and b else None
for (t, p, d), v in cells.items():
    if t.startswith(("sim", "raw")) or ("sim " + t, p, d) not in cells:
        continue
    ms, ps = slowdown(t, p, d), slowdown("sim " + t, p, d)
    ml = med([y for _, y in v.values()])
    pl = med([y for _, y in cells[("sim " + t, p, d)].values()])
    old = slowdown("sim without journal " + t, p, d)
    served = cells.get(("sim served " + t, p, d))
    ss = slowdown("sim served " + t, p, d)
    sl = med([y for _, y in served.values()]) if served else None
    print("%s,%s,%s,%.2f,%.2f,%.2f,%.1f,%.1f,%.2f,%s,%s,%s,%s,%s,%s" % (t, p, d, ms[0], ps[0],
          ps[0] / ms[0], ml, pl, pl / ml, "%.2f" % old[0] if old else "",
          "%.2f" % (old[0] / ms[0]) if old else "", "%.2f" % ss[0] if ss else "",
          "%.2f" % (ss[0] / ms[0]) if ss else "", "%.1f" % sl if sl else "",
          "%.2f" % (sl / ml) if sl else ""))
if len(sys.argv) > 2:
    print()
    print("variant,phase,iodepth,rounds,writes,engine write mean us,image flushes per write,"
          "image flush mean us,journal syncs per write,journal sync mean us,"
          "barrier time / engine write (medians over rounds; min-max)")
    b = {}
    for r in read(sys.argv[2]):
        b.setdefault((r["variant"], r["phase"], r["iodepth"]), []).append(r)
    f = lambda rs, k: [float(r[k]) for r in rs if r[k]]
    for (v, p, d), rs in b.items():
        n = f(rs, "writes")
        fl, jl = f(rs, "image_flush_us_mean"), f(rs, "journal_sync_us_mean")
        share = [(float(r["image_flushes"]) * float(r["image_flush_us_mean"] or 0) +
                  float(r["journal_syncs"]) * float(r["journal_sync_us_mean"] or 0)) /
                 (float(r["writes"]) * float(r["engine_write_us_mean"])) for r in rs]
        m = lambda xs, k=1: "%.*f (%.*f-%.*f)" % (k, med(xs), k, min(xs), k, max(xs)) if xs else ""
        print('%s,%s,%s,%d,%d,"%s",%.2f,"%s",%.2f,"%s","%s"' % (v, p, d, len(rs), med(n),
              m(f(rs, "engine_write_us_mean")), med(f(rs, "image_flushes")) / med(n), m(fl),
              med(f(rs, "journal_syncs")) / med(n), m(jl), m(share, 2)))
PY
}

case "${1:-}" in
--parse) parse "${2:--}"; exit ;;
--summary) shift; summary "$@"; exit ;;
esac

cd "$HERE/../.."
BIN=${BIN:-$PWD/target/release}
OWM=$BIN/owm
export OWM_NBDKIT_PLUGIN=$BIN/libowm_nbdkit.so
for tool in "$OWM" "$OWM_NBDKIT_PLUGIN"; do
    [ -e "$tool" ] || { echo "missing $tool: cargo build --release -p owm -p owm-serve" >&2; exit 2; }
done
for tool in fio nbdkit qemu-nbd python3; do
    command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
W=${1:-$(mktemp -d)}
mkdir -p "$W" "$W/calibrate"
SIZE=$((64 << 20))
REGION_MIB=${REGION_MIB:-16}
REPEATS=${REPEATS:-3}

run_fio() { # URI DEPTH -> "iops,lat_us_mean"
    fio --name=w --ioengine=nbd --uri="$1" --rw=randwrite --bs=4k --iodepth="$2" \
        --size="${REGION_MIB}m" --output-format=json >"$W/fio.out" 2>"$W/fio.err" ||
        { cat "$W/fio.err" >&2; return 1; }
    parse "$W/fio.out"
}

wait_sock() { for _ in $(seq 500); do [ -S "$1" ] && return 0; sleep 0.02; done; return 1; }

serve() { # VARIANT -> starts a fresh device, sets PID and SOCK
    rm -rf "$W/dev" "$W/nbd.sock" "$W/archive.img"
    "$OWM" serve "$W/dev" --create --variant "$1" --size-bytes $SIZE --socket "$W/nbd.sock" 2>"$W/serve.err" &
    PID=$!
    wait_sock "$W/nbd.sock"
    wait_sock "$W/dev/control.sock"
    SOCK=$W/nbd.sock
}

stop() { kill -TERM "$PID"; wait "$PID" || true; }

raw() { # DEPTH -> the two raw-file baselines' CSV lines; sets RAW_LAT (nbdkit file)
    rm -f "$W/raw.img" "$W/raw.sock"
    truncate -s $SIZE "$W/raw.img"
    nbdkit --foreground --unix "$W/raw.sock" file "$W/raw.img" &
    QPID=$!
    wait_sock "$W/raw.sock"
    local r
    r=$(run_fio "nbd+unix:///?socket=$W/raw.sock" "$1")
    RAW_LAT=${r#*,}
    echo "$round,raw file (nbdkit file),-,$1,$r"
    kill -TERM $QPID
    wait $QPID || true
    rm -f "$W/raw.img" "$W/raw.sock"
    truncate -s $SIZE "$W/raw.img"
    qemu-nbd -f raw -k "$W/raw.sock" -x raw -t "$W/raw.img" &
    QPID=$!
    wait_sock "$W/raw.sock"
    echo "$round,raw file (qemu-nbd),-,$1,$(run_fio "nbd+unix:///raw?socket=$W/raw.sock" "$1")"
    kill -TERM $QPID
    wait $QPID || true
}

# The served engine's own barriers in one phase (`owm device timings --json`) as CSV:
# round,variant,phase,iodepth,writes,engine write mean µs,image flushes,image flush
# mean µs,journal syncs,journal sync mean µs (its fdatasync plus its superblock write).
barriers() { # TIMINGS.json ROUND VARIANT PHASE DEPTH
    python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
b, w = t["barriers"], t["writes"]
def kind(*names):
    xs = [b[n] for n in names if b.get(n)]
    return sum(x["count"] for x in xs), sum(x["latency_us_sum"] for x in xs)
n = sum(c["latency"]["count"] for c in w)
wt = sum(c["latency"]["latency_us_sum"] for c in w)
fn, ft = kind("image_a_flush", "image_b_flush")
jn, jt = kind("journal_fdatasync")
_, st = kind("superblock_write")
mean = lambda t, n: "%.1f" % (t / n) if n else ""
print("%s,%s,%s,%s,%d,%s,%d,%s,%d,%s" % (*sys.argv[2:6], n, mean(wt, n), fn, mean(ft, fn),
      jn, mean(jt + st, jn)))
' "$@"
}

# One phase: fio on URI at DEPTH, the engine's barriers of that phase kept (in
# $W/timings/, and a line of $W/barriers.csv), and the prediction priced with them
# (target `sim served <variant>`: `owm calibrate --barrier-timings`).
phase() { # URI DEPTH VARIANT PHASE
    local t="$W/timings/$round-$3-qd$2-${4// /-}.json"
    "$OWM" device timings --dir "$W/dev" --json >/dev/null # a new interval
    echo "$round,$3,$4,$2,$(run_fio "$1" "$2")"
    "$OWM" device timings --dir "$W/dev" --json >"$t"
    barriers "$t" "$round" "$3" "$4" "$2" >>"$W/barriers.csv"
    "$OWM" calibrate "$W/calibrate" --profile "$W/calibrate/device-profile.toml" \
        --barrier-timings "$t" --pattern-writes $((REGION_MIB * 256)) \
        --baseline-latency-us "$RAW_LAT" | grep -F "$3,$4,$2," | sed "s/^/$round,sim served /"
}

mkdir -p "$W/timings"
echo "round,variant,phase,iodepth,writes,engine_write_us_mean,image_flushes,image_flush_us_mean,journal_syncs,journal_sync_us_mean" >"$W/barriers.csv"
echo "# load before: $(uptime)" >&2
echo "round,target,phase,iodepth,iops,lat_us_mean"
for round in $(seq "$REPEATS"); do
    raw 8
    raw 1
    # The prediction: this round's file-store profile, and the baseline's latency for
    # the time a request spends outside the device.
    "$OWM" calibrate "$W/calibrate" --pattern-writes $((REGION_MIB * 256)) \
        --baseline-latency-us "$RAW_LAT" >"$W/calibrate-$round.txt"
    grep -E '^(mirroring|logging|cow),' "$W/calibrate-$round.txt" | sed "s/^/$round,sim /"
    # The same profile priced as before journal syncs were counted (for comparison).
    "$OWM" calibrate "$W/calibrate" --profile "$W/calibrate/device-profile.toml" --without-journal \
        --pattern-writes $((REGION_MIB * 256)) --baseline-latency-us "$RAW_LAT" >"$W/calibrate-$round-without-journal.txt"
    grep -E '^(mirroring|logging|cow),' "$W/calibrate-$round-without-journal.txt" |
        sed "s/^/$round,sim without journal /"
    for qd in 1 8; do
        for v in mirroring logging cow; do
            serve $v
            phase "nbd+unix:///vlun?socket=$SOCK" $qd $v "before split"
            "$OWM" device split --dir "$W/dev" >/dev/null
            phase "nbd+unix:///vlun-b?socket=$SOCK" $qd $v "backup window"
            "$OWM" device backup --to "$W/archive.img" --dir "$W/dev" >/dev/null
            "$OWM" device retire --dir "$W/dev" >/dev/null
            phase "nbd+unix:///vlun-b?socket=$SOCK" $qd $v "after retire"
            stop
        done
    done
done
echo "# load after: $(uptime)" >&2
echo "# the served engine's barriers per phase: $W/barriers.csv" >&2
