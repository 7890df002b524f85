#!/usr/bin/env bash
# Re-create bot/channels/web/static/vendor/rasa-webchat/ from the npm registry (run by hand when
# upgrading; the result is committed, so `make run` and the tests need no npm).
# The only change to the package's UMD bundle: its CSS imports of Google Fonts are removed, so the
# widget loads nothing from a third party (visitors' privacy) and works on a network without internet
# (it falls back to the system sans-serif font).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-1.0.1}
DEST=bot/channels/web/static/vendor/rasa-webchat
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "rasa-webchat@$VERSION" >/dev/null && tar xzf "rasa-webchat-$VERSION.tgz")
mkdir -p "$DEST"
sed 's#@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700\&display=swap);##g' \
  "$WORK/package/lib/index.js" >"$DEST/index.js"
if grep -q 'fonts.googleapis.com' "$DEST/index.js"; then echo "font import still present" >&2; exit 1; fi
cp "$WORK/package/LICENSE" "$DEST/LICENSE"
(cd "$DEST" && sha256sum index.js >index.js.sha256)
echo "vendored rasa-webchat $VERSION into $DEST"
