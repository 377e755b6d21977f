#!/usr/bin/env bash
# Installs, from the package registries, the third-party JOSE libraries the interop test
# verifies hub result tokens with: PyJWT (with cryptography) in a Python venv, npm `jose`,
# and nimbus-jose-jwt from Maven Central. Everything goes under
# ${STATE:-$HOME/.cache/verihub-dev}/interop; the test finds it through
#
#   VERIHUB_INTEROP_DIR=${STATE:-$HOME/.cache/verihub-dev}/interop
#
# Idempotent: a tool already installed at the pinned version is left alone.
# Usage: deploy/dev/interop.sh [install|env]
set -euo pipefail

STATE=${STATE:-$HOME/.cache/verihub-dev}
DIR=$STATE/interop
PYJWT_VERSION=${PYJWT_VERSION:-2.10.1}
JOSE_VERSION=${JOSE_VERSION:-6.1.0}
NIMBUS_VERSION=${NIMBUS_VERSION:-10.4}

need() { command -v "$1" >/dev/null 2>&1 || { echo "interop: $1 is required ($2)" >&2; exit 1; }; }

install_python() {
	need python3 "Debian: python3 python3-venv"
	if [ -x "$DIR/py/bin/python" ] && "$DIR/py/bin/python" -c "import jwt, cryptography, sys; sys.exit(jwt.__version__ != '$PYJWT_VERSION')" 2>/dev/null; then
		return
	fi
	python3 -m venv "$DIR/py"
	"$DIR/py/bin/pip" install --quiet --disable-pip-version-check "PyJWT[crypto]==$PYJWT_VERSION"
}

install_node() {
	need node "Debian: nodejs"
	need npm "Debian: npm"
	mkdir -p "$DIR/node"
	if [ -f "$DIR/node/node_modules/jose/package.json" ] &&
		grep -q "\"version\": \"$JOSE_VERSION\"" "$DIR/node/node_modules/jose/package.json"; then
		return
	fi
	[ -f "$DIR/node/package.json" ] || echo '{"name": "verihub-interop", "private": true}' >"$DIR/node/package.json"
	(cd "$DIR/node" && npm install --silent --no-audit --no-fund "jose@$JOSE_VERSION")
}

install_java() {
	need java "Debian: openjdk-17-jdk-headless"
	need mvn "Debian: maven"
	mkdir -p "$DIR/java"
	if [ -f "$DIR/java/lib/nimbus-jose-jwt-$NIMBUS_VERSION.jar" ]; then
		return
	fi
	cat >"$DIR/java/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.verihub</groupId>
  <artifactId>interop</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>com.nimbusds</groupId>
      <artifactId>nimbus-jose-jwt</artifactId>
      <version>$NIMBUS_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
	rm -rf "$DIR/java/lib"
	mvn -q -B -f "$DIR/java/pom.xml" dependency:copy-dependencies -DoutputDirectory="$DIR/java/lib"
}

case ${1:-install} in
install)
	mkdir -p "$DIR"
	install_python
	install_node
	install_java
	echo "interop tools installed; run the test with:"
	echo "  VERIHUB_INTEROP_DIR=$DIR go test -run Interop ./hub/signing/"
	;;
env)
	echo "VERIHUB_INTEROP_DIR=$DIR"
	;;
*)
	echo "usage: $0 [install|env]" >&2
	exit 2
	;;
esac
