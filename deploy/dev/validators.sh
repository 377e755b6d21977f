#!/usr/bin/env bash
# Installs the validators the deploy tests run over deploy/ (no container engine here):
#   promtool             (Debian package prometheus)  — alert rules, config, rule unit tests
#   kubernetes-validate  (PyPI, schemas bundled)      — the Kubernetes manifests, offline
#   dclint               (npm)                        — compose.yaml against the Compose schema
# into ${STATE:-$HOME/.cache/verihub-dev}/validators. Idempotent.
# Usage: deploy/dev/validators.sh [install|env]
set -euo pipefail
STATE=${STATE:-$HOME/.cache/verihub-dev}
DIR=$STATE/validators
KV_VERSION=${KV_VERSION:-1.37.0}
DCLINT_VERSION=${DCLINT_VERSION:-3.1.0}
say() { printf 'validators.sh: %s\n' "$*" >&2; }

install() {
	mkdir -p "$DIR"
	if ! command -v promtool >/dev/null 2>&1; then
		say "installing promtool (Debian package prometheus)"
		if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
		$SUDO apt-get update -qq
		# No service start: the package's own daemon is not wanted, only its promtool.
		RUNLEVEL=1 $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
	fi
	if [ ! -x "$DIR/kv/bin/kubernetes-validate" ]; then
		say "installing kubernetes-validate $KV_VERSION"
		python3 -m venv "$DIR/kv"
		"$DIR/kv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION" \
			|| "$DIR/kv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate
	fi
	if [ ! -x "$DIR/dclint/node_modules/.bin/dclint" ]; then
		say "installing dclint $DCLINT_VERSION"
		npm install --silent --no-audit --no-fund --prefix "$DIR/dclint" "dclint@$DCLINT_VERSION" >/dev/null \
			|| npm install --silent --no-audit --no-fund --prefix "$DIR/dclint" dclint >/dev/null
	fi
}

env_lines() {
	echo "VERIHUB_PROMTOOL=$(command -v promtool || echo promtool)"
	echo "VERIHUB_KUBERNETES_VALIDATE=$DIR/kv/bin/kubernetes-validate"
	echo "VERIHUB_DCLINT=$DIR/dclint/node_modules/.bin/dclint"
}

case ${1:-install} in
install) install; env_lines ;;
env) env_lines ;;
*) echo "usage: $0 [install|env]" >&2; exit 2 ;;
esac
