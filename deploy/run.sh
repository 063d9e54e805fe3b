#!/usr/bin/env bash
# One command on a fresh machine: install, start the embedded stack (MariaDB with the PrestaShop
# demo shop, Kafka, Apicurio Registry), start the binlog capture, place two orders in the shop and
# show the change events arriving in Kafka. The stack and the capture keep running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
pssync stack up

STACK_DIR=${PSSYNC_STACK_DIR:-$PWD/.stack}
PIDFILE="$STACK_DIR/run/cdc.pid"
LOG="$STACK_DIR/logs/cdc.log"
mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "[run] capture already running (pid $(cat "$PIDFILE"))"
else
  echo "[run] starting the capture: pssync cdc run (log: $LOG)"
  nohup pssync cdc run --quiet --metrics-port 9464 >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
fi

ERP_PIDFILE="$STACK_DIR/run/erp-poll.pid"
if [ -f "$ERP_PIDFILE" ] && kill -0 "$(cat "$ERP_PIDFILE")" 2>/dev/null; then
  echo "[run] ERP capture already running (pid $(cat "$ERP_PIDFILE"))"
else
  echo "[run] starting the ERP capture from Tryton: pssync erp poll (log: $STACK_DIR/logs/erp-poll.log)"
  nohup pssync erp poll >>"$STACK_DIR/logs/erp-poll.log" 2>&1 &
  echo $! >"$ERP_PIDFILE"
fi
pssync erp mapping load | head -n 5 || true

for _ in $(seq 1 60); do
  if pssync cdc status --json 2>/dev/null | grep -q '"state": "streaming"'; then break; fi
  sleep 1
done
pssync cdc status

echo "[run] placing two orders in the demo shop (as PrestaShop's checkout would)"
pssync stack place-order --line 1:1:2 --line 6:0:1
pssync stack place-order --line 9:22:1
echo "[run] change events in Kafka (read_committed, decoded via the registry; snapshot rows left out):"
pssync cdc tail --from-beginning --idle-timeout 5 --table orders --table order_detail \
  --table order_history --table stock_available | grep -v '"op": "r"' | tail -n 24

echo "[run] ERP events from Tryton (stock levels and prices of the demo catalogue, first lines):"
pssync erp tail --from-beginning --idle-timeout 8 --kind stock --kind price | head -n 6 || true

cat <<TXT

[run] The capture is running (pid $(cat "$PIDFILE"); metrics on http://127.0.0.1:9464/metrics),
      and the ERP capture (pid $(cat "$ERP_PIDFILE")). Tryton: http://127.0.0.1:8000 (admin/admin).
      Follow new events:      pssync cdc tail      |   pssync erp tail
      Where the capture is:   pssync cdc status
      Place another order:    pssync stack place-order --line 2:9:1
      Stop the captures:      kill \$(cat $PIDFILE) \$(cat $ERP_PIDFILE)
      Stop the stack:         pssync stack down
TXT
