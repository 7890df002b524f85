#!/bin/sh
# Start the Rasa server with the production endpoints. The HTTP API (conversations, trackers) is on
# only with a token: RASA_AUTH_TOKEN. Channels: CREDENTIALS (credentials.yml: REST + web widget;
# credentials.channels.yml adds Zalo and Messenger). Extra arguments are passed to `rasa run`.
set -eu
set -- --port "${RASA_PORT:-5005}" --model models --endpoints "${ENDPOINTS:-endpoints.production.yml}" \
  --credentials "${CREDENTIALS:-credentials.yml}" --cors "${CORS_ORIGINS:-*}" "$@"
if [ -n "${RASA_AUTH_TOKEN:-}" ]; then
  set -- --enable-api --auth-token "$RASA_AUTH_TOKEN" "$@"
fi
exec rasa run "$@"
