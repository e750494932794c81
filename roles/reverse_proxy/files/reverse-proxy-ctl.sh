#!/bin/sh
# Process control for grafana_ops.auth.reverse_proxy (service_mode process, nginx/Apache/HAProxy reloads).
# Prints "changed" when it started, stopped or reloaded something, "unchanged" otherwise.
#   running PIDFILE                            exit 0 when the PID in PIDFILE is alive
#   start-nginx PIDFILE TIMEOUT NGINX PREFIX CONF
#   start-traefik PIDFILE TIMEOUT LOGFILE TRAEFIK CONF
#   reload-nginx PIDFILE TIMEOUT ERRORLOG COMMAND...
#                                              run COMMAND (signal or systemctl), then wait until
#                                              the master runs a new worker generation; fail at
#                                              once, quoting them, when [emerg]/[alert]/[crit]
#                                              lines appear in ERRORLOG (the master rejected it)
#   start-daemon PIDFILE TIMEOUT LOGFILE COMMAND...
#                                              run COMMAND (a proxy that daemonizes itself and writes
#                                              PIDFILE: apache2 -k start, haproxy -W -D, caddy start)
#                                              with its output in LOGFILE; wait for a live PID
#   reload-generation PIDFILE TIMEOUT LOGFILE COMMAND...
#                                              run COMMAND (apache2 -k graceful, systemctl reload; the
#                                              word signal:USR2 sends SIGUSR2 to the PID in PIDFILE,
#                                              HAProxy's master), then wait until the parent runs a new
#                                              generation of children; fail when it exits or none comes
#   stop PIDFILE TIMEOUT
set -u

alive() {
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    # a zombie is not running
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
    [ "$state" != Z ]
}

wait_until() { # TIMEOUT COMMAND...: poll every 0.1 s
    tries=$(($1 * 10)); shift
    while [ "$tries" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

workers() { pgrep -P "$1" 2>/dev/null | sort | tr '\n' ' '; }

new_generation() { # MASTER OLD: some worker exists that was not there before
    for p in $(workers "$1"); do
        case " $2 " in *" $p "*) ;; *) return 0 ;; esac
    done
    return 1
}

action=${1:-}; [ $# -gt 0 ] && shift
case "$action" in
running)
    alive "$1"
    ;;
start-nginx)
    pidfile=$1 timeout=$2 nginx=$3 prefix=$4 conf=$5
    if alive "$pidfile"; then echo unchanged; exit 0; fi
    "$nginx" -p "$prefix" -c "$conf" -e stderr || exit 1
    wait_until "$timeout" alive "$pidfile" || { echo "nginx did not write a live PID to $pidfile" >&2; exit 1; }
    echo changed
    ;;
start-traefik)
    pidfile=$1 timeout=$2 log=$3 traefik=$4 conf=$5
    if alive "$pidfile"; then echo unchanged; exit 0; fi
    nohup "$traefik" "--configFile=$conf" >>"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    sleep 0.2
    alive "$pidfile" || { echo "traefik exited at once; see $log" >&2; tail -n 5 "$log" >&2; exit 1; }
    echo changed
    ;;
reload-nginx)
    pidfile=$1 timeout=$2 errlog=$3; shift 3
    if ! alive "$pidfile"; then echo "nginx is not running (no live PID in $pidfile)" >&2; exit 1; fi
    master=$(cat "$pidfile")
    old=$(workers "$master")
    offset=$(wc -c <"$errlog" 2>/dev/null || echo 0)
    rejected() { # the master logs why it keeps the old configuration
        lines=$(tail -c +$((offset + 1)) "$errlog" 2>/dev/null | grep -E '\[(emerg|alert|crit)\]' | tail -n 5)
        [ -n "$lines" ]
    }
    settled() { new_generation "$master" "$old" || rejected; }
    "$@" || exit 1
    wait_until "$timeout" settled
    if rejected; then
        reason=$(printf '%s\n' "$lines" | sed 's/^[0-9/]* [0-9:]* //; s/[0-9]*#[0-9]*: //' | tr '\n' ' ')
        echo "nginx rejected the reload and keeps running its previous configuration: $reason" >&2
        exit 1
    fi
    if ! new_generation "$master" "$old"; then
        echo "nginx did not start new workers within ${timeout}s and logged no reason in $errlog; it may still run its previous configuration" >&2
        exit 1
    fi
    # old workers close their listening sockets on the QUIT the master sends right after
    sleep 0.3
    echo changed
    ;;
start-daemon)
    pidfile=$1 timeout=$2 log=$3; shift 3
    if alive "$pidfile"; then echo unchanged; exit 0; fi
    "$@" >>"$log" 2>&1 </dev/null || { echo "$1 failed to start:" >&2; tail -n 5 "$log" >&2; exit 1; }
    wait_until "$timeout" alive "$pidfile" || { echo "$1 did not write a live PID to $pidfile:" >&2; tail -n 5 "$log" >&2; exit 1; }
    echo changed
    ;;
reload-generation)
    pidfile=$1 timeout=$2 log=$3; shift 3
    if ! alive "$pidfile"; then echo "the proxy is not running (no live PID in $pidfile)" >&2; exit 1; fi
    parent=$(cat "$pidfile")
    old=$(workers "$parent")
    if [ "$1" = signal:USR2 ]; then
        kill -USR2 "$parent" || exit 1
    else
        "$@" >>"$log" 2>&1 </dev/null || { echo "$1 failed to reload:" >&2; tail -n 5 "$log" >&2; exit 1; }
    fi
    settled() { new_generation "$parent" "$old" || ! kill -0 "$parent" 2>/dev/null; }
    wait_until "$timeout" settled
    if ! kill -0 "$parent" 2>/dev/null; then
        echo "the proxy (PID $parent) exited during the reload; see $log and its error log" >&2
        exit 1
    fi
    if ! new_generation "$parent" "$old"; then
        echo "the proxy did not start new workers within ${timeout}s and keeps running its previous configuration" >&2
        exit 1
    fi
    # the old generation closes its listening sockets as the new one starts
    sleep 0.3
    echo changed
    ;;
stop)
    pidfile=$1 timeout=$2
    if ! alive "$pidfile"; then echo unchanged; exit 0; fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    if ! wait_until "$timeout" sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"; then
        echo "PID $pid did not stop within ${timeout}s" >&2; exit 1
    fi
    rm -f "$pidfile"
    echo changed
    ;;
*)
    echo "usage: $0 running|start-nginx|start-traefik|reload-nginx|start-daemon|reload-generation|stop ..." >&2
    exit 2
    ;;
esac
