#!/usr/bin/env bash
# Start the action server, the Rasa server (REST and socket.io on :5005) and the demo page with the
# chat bubble (:8080), and keep serving until stopped. CREDENTIALS=credentials.channels.yml adds Zalo
# (its webhook listener on :5006 too) and Messenger, with their secrets from the environment.
# Works without a terminal (nohup, CI, systemd): no interactive prompt, logs to var/log/.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
ACTION_SERVER_PORT=5055  # must match endpoints.yml
RASA_PORT=${RASA_PORT:-5005}
WEB_PORT=${WEB_PORT:-8080}
ENDPOINTS=${ENDPOINTS:-endpoints.yml}
CREDENTIALS=${CREDENTIALS:-credentials.yml}
mkdir -p var/log

"$VENV/bin/rasa" run actions --actions actions --port "$ACTION_SERVER_PORT" \
  >>var/log/actions.log 2>&1 &
ACTIONS_PID=$!
"$VENV/bin/rasa" run --enable-api --port "$RASA_PORT" --model models \
  --endpoints "$ENDPOINTS" --credentials "$CREDENTIALS" --cors "*" \
  >>var/log/rasa.log 2>&1 &
RASA_PID=$!
# The demo page; the widget talks to socket.io on this host's :$RASA_PORT unless WIDGET_SOCKET_URL says otherwise.
"$VENV/bin/python" -m bot.channels.web.server --port "$WEB_PORT" \
  >>var/log/web.log 2>&1 &
WEB_PID=$!

stop() { kill "$RASA_PID" "$ACTIONS_PID" "$WEB_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

# Wait until the model is loaded, then say how to talk to it.
for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:$RASA_PORT/status" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$RASA_PID" 2>/dev/null; then echo "Rasa server stopped; see var/log/rasa.log" >&2; exit 1; fi
  sleep 1
done
echo "Assistant ready: REST on http://localhost:$RASA_PORT/webhooks/rest/webhook (logs in var/log/)."
echo "Try: curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{\"sender\":\"me\",\"message\":\"xin chao\"}'"
echo "Chat bubble demo page: http://localhost:$WEB_PORT/"
# Serve until one of them stops or we are stopped.
wait -n "$RASA_PID" "$ACTIONS_PID" "$WEB_PID"
echo "a server stopped; see var/log/" >&2
exit 1
