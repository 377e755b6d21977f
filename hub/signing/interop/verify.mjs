// Verify a verihub result token with the npm package `jose`:
//   VERIHUB_INTEROP_DIR=... node verify.mjs JWKS_FILE TOKEN
// jose is loaded from $VERIHUB_INTEROP_DIR/node (deploy/dev/interop.sh installs it).
// Prints the payload as JSON and exits 0 when valid; prints the reason and exits 1.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [jwksFile, token] = process.argv.slice(2);
if (!jwksFile || !token || !process.env.VERIHUB_INTEROP_DIR) {
  console.error('usage: VERIHUB_INTEROP_DIR=DIR node verify.mjs JWKS_FILE TOKEN');
  process.exit(2);
}
const require = createRequire(join(process.env.VERIHUB_INTEROP_DIR, 'node', 'package.json'));
const jose = await import(pathToFileURL(require.resolve('jose')).href);

const jwks = jose.createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
try {
  const { payload } = await jose.jwtVerify(token, jwks, {
    algorithms: ['ES256'],
    requiredClaims: ['exp', 'iat'],
  });
  console.log(JSON.stringify(payload));
} catch (e) {
  console.error(`invalid: ${e.code ?? ''} ${e.message}`);
  process.exit(1);
}
