"""Verify a verihub result token with PyJWT: verify.py JWKS_FILE TOKEN.

Prints the payload as JSON and exits 0 when the token is valid (ES256, kid in the
set, good signature, not expired); prints the reason and exits 1 otherwise.
"""
import json
import sys

import jwt


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: verify.py JWKS_FILE TOKEN", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        jwks = jwt.PyJWKSet.from_dict(json.load(f))
    token = sys.argv[2]
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in jwks.keys if k.key_id == kid), None)
        if key is None:
            raise jwt.InvalidTokenError(f"no key with kid {kid!r}")
        payload = jwt.decode(
            token, key.key, algorithms=["ES256"],
            options={"require": ["exp", "iat"], "verify_aud": False},
        )
    except jwt.InvalidTokenError as e:
        print(f"invalid: {e}", file=sys.stderr)
        return 1
    print(json.dumps(payload, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
