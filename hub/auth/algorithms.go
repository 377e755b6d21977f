package auth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// algorithmsFor returns the asymmetric signature algorithms a client key may sign
// assertions with: its alg member if it has one, else those its type and curve allow.
func algorithmsFor(k jwk.Key) ([]jwa.SignatureAlgorithm, error) {
	var algs []jwa.SignatureAlgorithm
	switch k.KeyType() {
	case jwa.EC:
		ec, ok := k.(jwk.ECDSAPublicKey)
		if !ok {
			return nil, errors.New("an EC key that is not a public key")
		}
		switch ec.Crv() {
		case jwa.P256:
			algs = []jwa.SignatureAlgorithm{jwa.ES256}
		case jwa.P384:
			algs = []jwa.SignatureAlgorithm{jwa.ES384}
		case jwa.P521:
			algs = []jwa.SignatureAlgorithm{jwa.ES512}
		default:
			return nil, fmt.Errorf("EC curve %s is not accepted", ec.Crv())
		}
	case jwa.RSA:
		var raw rsa.PublicKey
		if err := k.Raw(&raw); err != nil {
			return nil, fmt.Errorf("RSA key: %w", err)
		}
		if raw.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048 required", raw.N.BitLen())
		}
		algs = []jwa.SignatureAlgorithm{jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512}
	case jwa.OKP:
		algs = []jwa.SignatureAlgorithm{jwa.EdDSA}
	case jwa.OctetSeq:
		return nil, errors.New("a symmetric (oct) key: shared secrets are not accepted")
	default:
		return nil, fmt.Errorf("key type %q is not accepted", k.KeyType())
	}
	if a := k.Algorithm().String(); a != "" {
		alg := jwa.SignatureAlgorithm(a)
		if !slices.Contains(algs, alg) {
			return nil, fmt.Errorf("alg %s does not fit a %s key", a, k.KeyType())
		}
		return []jwa.SignatureAlgorithm{alg}, nil
	}
	return algs, nil
}

// signingAlgorithm picks the algorithm a client signs its assertion with.
func signingAlgorithm(k jwk.Key) (jwa.SignatureAlgorithm, error) {
	if a := k.Algorithm().String(); a != "" {
		return jwa.SignatureAlgorithm(a), nil
	}
	pub, err := k.PublicKey()
	if err != nil {
		return "", err
	}
	algs, err := algorithmsFor(pub)
	if err != nil {
		return "", err
	}
	return algs[0], nil
}
