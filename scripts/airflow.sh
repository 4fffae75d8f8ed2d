#!/usr/bin/env bash
# Local Airflow 3 for this project (`make airflow`): the DAGs in dags/, state in .airflow/ (git-ignored).
#
#   scripts/airflow.sh [start]   start `airflow standalone` in the background, wait for the API, print the URL
#   scripts/airflow.sh status    which components run (by process id)
#   scripts/airflow.sh stop      stop every component by process id
#
# Everything Airflow writes goes to .airflow/: airflow.cfg (generated on first start, holds secrets),
# airflow.db (sqlite metadata), logs/ (standalone.log = all components' output; task logs), run/*.pid.
# The API and UI listen on 127.0.0.1 only. Log in as `admin` with the password Airflow generates into
# .airflow/simple_auth_manager_passwords.json.generated (SimpleAuthManager, Airflow's default).
#
# Environment (all optional):
#   TRANSPARENCY_MIRROR     default `mirror` param of the ingest DAGs. Default: data/samples/google_removals/2026-03
#                           (the committed sample, works offline). Set it to another folder, or to an empty
#                           string to have no default mirror (then trigger with {"live": true} or a mirror).
#   TRANSPARENCY_DATA_DIR   data dir the tasks write to (default: <project>/data)
#   AIRFLOW_PORT            API/UI port on 127.0.0.1 (default 8080)
#   AIRFLOW_START_TIMEOUT   seconds to wait for the API (default 300)
# New DAGs start paused (Airflow's default): unpause them in the UI, or trigger a run there.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${AIRFLOW_PORT:-8080}"
URL="http://127.0.0.1:${PORT}"
START_TIMEOUT="${AIRFLOW_START_TIMEOUT:-300}"

export AIRFLOW_HOME="$PROJECT_DIR/.airflow"
export PATH="$PROJECT_DIR/.venv/bin:$PATH"  # standalone starts its components as `airflow` from PATH
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$PROJECT_DIR/dags"
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=2
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=2
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="$PORT"
export AIRFLOW__API__WORKERS=1
# Task processes reach the API through this URL; the default (http://localhost:8080) may not match the port.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$URL/execution/"
export TRANSPARENCY_MIRROR="${TRANSPARENCY_MIRROR-$PROJECT_DIR/data/samples/google_removals/2026-03}"

RUN_DIR="$AIRFLOW_HOME/run"
LOG_DIR="$AIRFLOW_HOME/logs"
LOG="$LOG_DIR/standalone.log"
PASSWORDS="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
COMPONENTS=(scheduler dag-processor api-server triggerer)

# ---- processes are identified by pid + start time (field 22 of /proc/<pid>/stat), so a reused pid is
# ---- never mistaken for ours. A component that exited stays a zombie until standalone reaps it: not alive.

start_time() {  # start time of a live process; fails for a gone or zombie (exited, not yet reaped) one
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    # shellcheck disable=SC2086
    set -- ${stat##*) }
    [[ "$1" != Z && "$1" != X ]] || return 1
    echo "${20}"
}

alive() {  # alive PID STARTTIME
    [[ -n "${1:-}" && "$(start_time "$1" 2>/dev/null)" == "${2:-}" ]]
}

record() {  # record NAME PID
    local started
    started="$(start_time "$2")" && echo "$2 $started" >"$RUN_DIR/$1.pid"
}

read_pid() {  # read_pid NAME -> "PID STARTTIME" or nothing
    [[ -f "$RUN_DIR/$1.pid" ]] && cat "$RUN_DIR/$1.pid" || true
}

descendants() {  # every process below PID, depth first
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

stop_pid() {  # stop_pid NAME PID STARTTIME: SIGTERM, then SIGKILL after 30 s
    local name="$1" pid="$2" started="$3" waited=0
    alive "$pid" "$started" || return 0
    echo "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid" "$started" && ((waited < 300)); do sleep 0.1; waited=$((waited + 1)); done
    if alive "$pid" "$started"; then
        echo "  $name did not exit after SIGTERM; sending SIGKILL to pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

api_answers() {
    curl -fsS --max-time 3 "$URL/api/v2/monitor/health" 2>/dev/null
}

record_components() {
    # standalone starts each component as `airflow <component>`: record their pids.
    local parent="$1" pid args name
    while read -r pid args; do
        args="${args//_/-}"  # a component may retitle itself (`airflow api_server -- host:…`)
        for name in "${COMPONENTS[@]}"; do
            if [[ "$args" == *"airflow $name"* ]]; then
                record "$name" "$pid"
            fi
        done
    done < <(ps -o pid=,args= --ppid "$parent" 2>/dev/null)
}

cmd_status() {
    local name pid started any=1
    for name in standalone "${COMPONENTS[@]}"; do
        read -r pid started <<<"$(read_pid "$name")"
        if alive "${pid:-}" "${started:-}"; then
            echo "$name: running (pid $pid)"
            any=0
        else
            echo "$name: not running"
        fi
    done
    if api_answers >/dev/null; then echo "API: $URL answers"; fi
    return $any
}

cmd_stop() {
    local name pid started extra=()
    read -r pid started <<<"$(read_pid standalone)"
    # Note the whole process tree first, so workers of a component that exits early are not orphaned.
    if alive "${pid:-}" "${started:-}"; then
        for child in $(descendants "$pid"); do
            local s
            s="$(start_time "$child" 2>/dev/null)" && extra+=("$child $s")
        done
    fi
    for name in "${COMPONENTS[@]}"; do
        read -r pid started <<<"$(read_pid "$name")"
        [[ -n "${pid:-}" ]] && stop_pid "$name" "$pid" "$started"
    done
    read -r pid started <<<"$(read_pid standalone)"
    [[ -n "${pid:-}" ]] && stop_pid standalone "$pid" "$started"
    for entry in "${extra[@]}"; do
        read -r pid started <<<"$entry"
        stop_pid "leftover process" "$pid" "$started"
    done
    rm -f "$RUN_DIR"/*.pid
    echo "Airflow stopped."
}

cmd_start() {
    local pid started waited=0
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    read -r pid started <<<"$(read_pid standalone)"
    if alive "${pid:-}" "${started:-}"; then
        echo "Airflow is already running (standalone pid $pid): $URL"
        echo "Stop it with: scripts/airflow.sh stop"
        return 0
    fi
    if api_answers >/dev/null; then
        echo "error: something already answers on $URL; stop it or set AIRFLOW_PORT" >&2
        return 1
    fi
    if [[ ! -x "$PROJECT_DIR/.venv/bin/airflow" ]]; then
        echo "error: $PROJECT_DIR/.venv/bin/airflow not found; run 'uv sync' first" >&2
        return 1
    fi
    if [[ -n "$TRANSPARENCY_MIRROR" && ! -d "$TRANSPARENCY_MIRROR" ]]; then
        echo "warning: TRANSPARENCY_MIRROR=$TRANSPARENCY_MIRROR is not a folder; ingest runs will fail" >&2
    fi

    echo "Starting Airflow (AIRFLOW_HOME=$AIRFLOW_HOME, log: $LOG)"
    # setsid: its own session, so a Ctrl-C in this terminal does not reach it; stdin closed.
    setsid airflow standalone >>"$LOG" 2>&1 </dev/null &
    pid=$!
    record standalone "$pid"
    read -r pid started <<<"$(read_pid standalone)"

    until api_answers >/dev/null; do
        if ! alive "$pid" "$started"; then
            echo "error: airflow standalone exited; last lines of $LOG:" >&2
            tail -n 30 "$LOG" >&2
            return 1
        fi
        if ((waited >= START_TIMEOUT)); then
            echo "error: the API did not answer on $URL within ${START_TIMEOUT}s; last lines of $LOG:" >&2
            tail -n 30 "$LOG" >&2
            record_components "$pid"
            cmd_stop
            return 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
    # The API answers; give standalone a moment to have started every component, then note their pids.
    for _ in $(seq 1 30); do
        record_components "$pid"
        [[ $(ls "$RUN_DIR"/*.pid 2>/dev/null | wc -l) -ge $((${#COMPONENTS[@]} + 1)) ]] && break
        sleep 1
    done

    echo
    echo "Airflow is up: $URL  (health: $(api_answers))"
    if [[ -f "$PASSWORDS" ]]; then
        echo "Log in as admin; the password is in $PASSWORDS"
    fi
    echo "DAGs from $AIRFLOW__CORE__DAGS_FOLDER (new DAGs start paused); default mirror: ${TRANSPARENCY_MIRROR:-none}"
    echo "Logs: $LOG and $LOG_DIR/dag_id=*/"
    echo "Process ids: $RUN_DIR/*.pid"
    echo "Stop it with: scripts/airflow.sh stop"
}

case "${1:-start}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: scripts/airflow.sh [start|stop|status]" >&2
        exit 2
        ;;
esac
