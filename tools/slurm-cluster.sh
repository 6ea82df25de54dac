#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for testing `--profile profiles/slurm`.
#
#   tools/slurm-cluster.sh install         # apt-get install slurmctld slurmd slurm-client munge
#   tools/slurm-cluster.sh up [STATE_DIR]   # start munged (if none runs), slurmctld, slurmd
#   tools/slurm-cluster.sh down [STATE_DIR] # stop exactly the daemons `up` started
#
# Needs root (the daemons run as root; no systemd or cgroups are used). All state, logs and the
# config live in STATE_DIR (default /tmp/gateroles-slurm). Clients find the cluster through
# SLURM_CONF (`up` prints `export SLURM_CONF=...`); job steps cannot (the SLURM executor strips
# SLURM_* variables before its inner `srun`), so `up` also links /etc/slurm/slurm.conf to the
# config when that file does not exist (an existing one is never touched), and `down` removes
# the link.
# No accounting daemon: `sacct` does not work, so the workflow's profile polls with `squeue`,
# and MinJobAge keeps finished jobs visible to squeue for 10 minutes.
set -euo pipefail

cmd=${1:-}
STATE=${2:-${GATEROLES_SLURM_STATE:-/tmp/gateroles-slurm}}
PACKAGES=(slurmctld slurmd slurm-client munge)

die() { echo "slurm-cluster: $*" >&2; exit 1; }

install() {
    [ "$(id -u)" = 0 ] || die "installing needs root"
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    command -v apt-get >/dev/null || die "apt-get not available to install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { apt-get update -qq >/dev/null && \
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

wait_for() {  # wait_for SECONDS COMMAND...: retry COMMAND until it succeeds
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
}

up() {
    [ "$(id -u)" = 0 ] || die "starting slurmctld/slurmd needs root"
    for b in slurmctld slurmd munged sinfo; do
        command -v "$b" >/dev/null || die "$b not found (run: $0 install)"
    done
    [ -e "$STATE/slurmctld.started" ] && alive "$(cat "$STATE/slurmctld.started")" \
        && die "a cluster from $STATE is already up (run: $0 down $STATE)"
    mkdir -p "$STATE/ctld" "$STATE/spool"
    chmod 755 "$STATE"  # munged runs as user munge and keeps its PID file in here
    local host cpus mem
    host=$(hostname -s)
    read -r cpus mem < <(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*RealMemory=\([0-9]*\).*/\1 \2/p')
    [ -n "$cpus" ] || die "slurmd -C did not report CPUs and RealMemory"
    mem=$((mem * 9 / 10))  # at most what slurmd -C reports, or the node is drained
    cat > "$STATE/slurm.conf" <<EOF
ClusterName=gateroles-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=${GATEROLES_SLURMCTLD_PORT:-6817}
SlurmdPort=${GATEROLES_SLURMD_PORT:-6818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=sched_interval=2
ReturnToService=2
MinJobAge=600
DefMemPerCPU=1000
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$STATE/slurm.conf"
    : > "$STATE/started"
    if [ ! -e /etc/slurm/slurm.conf ] && [ ! -L /etc/slurm/slurm.conf ]; then
        mkdir -p /etc/slurm && ln -s "$SLURM_CONF" /etc/slurm/slurm.conf
        echo "link /etc/slurm/slurm.conf" >> "$STATE/started"
    elif [ "$(readlink -f /etc/slurm/slurm.conf)" != "$(readlink -f "$SLURM_CONF")" ]; then
        echo "slurm-cluster: warning: /etc/slurm/slurm.conf exists; job steps will use it" >&2
    fi
    # munge: reuse a running munged (someone else's; never stopped here), else start one.
    if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key missing (reinstall munge)"
        mkdir -p /run/munge /var/log/munge /var/lib/munge
        chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
        mkdir -p "$STATE/munge" && chown munge:munge "$STATE/munge"
        runuser -u munge -- munged --pid-file="$STATE/munge/munged.pid" 2>"$STATE/munged.err" \
            || die "munged did not start: $(cat "$STATE/munged.err")"
        wait_for 10 test -s "$STATE/munge/munged.pid" || die "munged wrote no PID file"
        echo "munged $(cat "$STATE/munge/munged.pid")" >> "$STATE/started"
        wait_for 10 sh -c 'munge -n </dev/null | unmunge' || die "munge does not work"
    fi
    setsid slurmctld -D -i -f "$SLURM_CONF" > "$STATE/slurmctld.out" 2>&1 < /dev/null &
    echo "slurmctld $!" >> "$STATE/started"
    echo $! > "$STATE/slurmctld.started"
    wait_for 30 scontrol ping || die "slurmctld did not answer: $(tail -5 "$STATE/slurmctld.log")"
    setsid slurmd -D -f "$SLURM_CONF" > "$STATE/slurmd.out" 2>&1 < /dev/null &
    echo "slurmd $!" >> "$STATE/started"
    idle() { sinfo -h -N -o %t | grep -qE '^(idle|mix|alloc)'; }
    wait_for 60 idle || die "node not idle: $(sinfo -N 2>&1; tail -5 "$STATE/slurmd.log")"
    echo "export SLURM_CONF=$SLURM_CONF"
}

down() {
    [ -e "$STATE/started" ] || { echo "slurm-cluster: nothing started from $STATE"; return 0; }
    local name pid
    # Reverse order: slurmd, slurmctld, munged (only if this script started it), the link.
    tac "$STATE/started" | while read -r name pid; do
        if [ "$name" = link ]; then
            [ "$(readlink "$pid")" = "$STATE/slurm.conf" ] && rm -f "$pid"
            continue
        fi
        if alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do alive "$pid" || break; sleep 0.2; done
            alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$STATE/started" "$STATE/slurmctld.started"
}

case "$cmd" in
    install) install ;;
    up) up ;;
    down) down ;;
    *) die "usage: $0 install|up|down [STATE_DIR]" ;;
esac
