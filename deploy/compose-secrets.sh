#!/usr/bin/env bash
# Creates the files deploy/compose.yaml mounts as secrets, under deploy/secrets/:
# the PII and access-token secrets, the Redis password, the simulators' bearer tokens,
# and the demo portal and admin clients' P-256 key pairs (private JWKs for `hub token`
# and `hub push`, public JWKs registered in the hub configuration).
# Existing files are kept: run it again after deleting one to replace it.
# Needs openssl, xxd and base64.
set -euo pipefail

DIR=${1:-$(dirname "$0")/secrets}
mkdir -p "$DIR"
cd "$DIR"

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

secret() { # file: 32 random bytes, hex
	[ -s "$1" ] || openssl rand -hex 32 >"$1"
}

client() { # id name: name.jwk (private) and name.pub.jwk (public)
	local id=$1 name=$2
	[ -s "$name.jwk" ] && [ -s "$name.pub.jwk" ] && return
	# SEC1 DER of a P-256 key with its named curve: 30 77 02 01 01 04 20 d(32)
	# a0 0a 06 08 <oid> a1 44 03 42 00 04 x(32) y(32), 121 bytes.
	local der x y d kid
	der=$(openssl ecparam -name prime256v1 -genkey -noout | openssl ec -outform DER 2>/dev/null | xxd -p | tr -d '\n')
	if [ ${#der} -ne 242 ] || [ "${der:0:14}" != "30770201010420" ]; then
		echo "compose-secrets: unexpected EC key encoding from openssl" >&2
		exit 1
	fi
	d=$(printf '%s' "${der:14:64}" | xxd -r -p | b64url)
	x=$(printf '%s' "${der:114:64}" | xxd -r -p | b64url)
	y=$(printf '%s' "${der:178:64}" | xxd -r -p | b64url)
	kid=$(printf '%s' "$id" | openssl dgst -sha256 -binary | head -c 8 | xxd -p)
	printf '{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"%s","x":"%s","y":"%s","d":"%s","client_id":"%s"}\n' "$kid" "$x" "$y" "$d" "$id" >"$name.jwk"
	printf '{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"%s","x":"%s","y":"%s"}\n' "$kid" "$x" "$y" >"$name.pub.jwk"
	chmod 0600 "$name.jwk"
}

secret pii.key
secret access.key
secret redis_password
for a in si tax cert env credit; do
	# hub sim accepts demo-<agency> unless given --token.
	[ -s "$a.token" ] || printf 'demo-%s\n' "$a" >"$a.token"
done
client demo-portal portal
client demo-admin admin

# The hub runs as uid 65532 in its container and reads these bind-mounted files;
# the private client keys stay with the operator.
chmod 0644 pii.key access.key redis_password ./*.token ./*.pub.jwk
echo "secrets in $(pwd); for example:"
echo "  hub token --key $(pwd)/portal.jwk --url http://localhost:8080"
