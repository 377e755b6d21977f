// Verify a verihub result token with nimbus-jose-jwt (single-file launch):
//   java -cp "$VERIHUB_INTEROP_DIR/java/lib/*" Verify.java JWKS_FILE TOKEN
// Prints the payload as JSON and exits 0 when valid; prints the reason and exits 1.
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.File;
import java.util.Date;

public class Verify {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp LIB/* Verify.java JWKS_FILE TOKEN");
            System.exit(2);
        }
        JWKSet set = JWKSet.load(new File(args[0]));
        try {
            SignedJWT jwt = SignedJWT.parse(args[1]);
            if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
                throw new Exception("alg " + jwt.getHeader().getAlgorithm() + " is not ES256");
            }
            JWK key = set.getKeyByKeyId(jwt.getHeader().getKeyID());
            if (!(key instanceof ECKey)) {
                throw new Exception("no EC key with kid " + jwt.getHeader().getKeyID());
            }
            if (!jwt.verify(new ECDSAVerifier((ECKey) key))) {
                throw new Exception("bad signature");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Date exp = claims.getExpirationTime();
            if (exp == null || !exp.after(new Date())) {
                throw new Exception("expired or no exp");
            }
            System.out.println(jwt.getPayload().toString());
        } catch (Exception e) {
            System.err.println("invalid: " + e.getMessage());
            System.exit(1);
        }
    }
}
