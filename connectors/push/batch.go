package push

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// MediaType is the Content-Type of a pushed batch: a compact JWS.
const MediaType = "application/jose"

// Type is the typ header Sign writes. Verify accepts a batch without typ (other JOSE
// tooling may not set it) but refuses any other typ, so that a token signed for
// another purpose (a client assertion, typ JWT) is never read as a batch.
const Type = "verihub-batch+jws"

// DefaultMaxRecords is the most records one batch may carry unless configured.
const DefaultMaxRecords = 1000

// MaxBatchIDLen is the longest batch id.
const MaxBatchIDLen = 128

// Stable codes of refused batches. They are part of the public contract: agencies
// match on them, so a code is never renamed or reused.
const (
	CodeJWSMalformed   = "jws_malformed"          // not a compact JWS, or a header this hub does not accept
	CodeAlgNotAllowed  = "jws_alg_not_allowed"    // none, HMAC, an unsupported alg, or one the key does not fit
	CodeUnknownKey     = "jws_unknown_key"        // no kid, or no registered key of the caller has it
	CodeBadSignature   = "jws_bad_signature"      // the signature does not verify with that key
	CodeBatchMalformed = "batch_malformed"        // the payload is not {"batch_id", "records": [...]}
	CodeBatchIDInvalid = "batch_id_invalid"       // batch_id missing, empty, too long or with other characters
	CodeTooManyRecords = "batch_too_many_records" // more records than the limit
	CodeBatchEmpty     = "batch_empty"            // no records
)

const (
	maxHeaderBytes = 4 << 10
	recordsMember  = "records"
	batchIDMember  = "batch_id"
)

// Error is a refused batch. Code is one of the Code constants; Detail is for the
// agency's operator and never holds record content.
type Error struct {
	Code   string
	Detail string
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

func refuse(code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of a refusal from Verify or Sign, or "" for another error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Batch is the payload of a pushed batch. Records are envelopes as the agency sent
// them, not yet validated.
type Batch struct {
	BatchID string            `json:"batch_id"`
	Records []json.RawMessage `json:"records"`
}

// ValidBatchID reports whether id is 1–128 characters of [A-Za-z0-9._:-].
func ValidBatchID(id string) bool {
	if len(id) == 0 || len(id) > MaxBatchIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// Digest identifies the batch's content: SHA-256 over its records, each compacted,
// so the same records re-encoded with other whitespace have the same digest. The hub
// compares it to tell a re-sent batch from a different one reusing its id.
func (b Batch) Digest() string {
	h := sha256.New()
	var buf bytes.Buffer
	var n [8]byte
	for _, r := range b.Records {
		buf.Reset()
		if json.Compact(&buf, r) != nil {
			buf.Reset()
			buf.Write(r)
		}
		binary.BigEndian.PutUint64(n[:], uint64(buf.Len()))
		h.Write(n[:])
		h.Write(buf.Bytes())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Sign returns b as a compact JWS signed with a private key: ES256 for a P-256 key
// (ES384 for P-384, EdDSA for Ed25519, RS256 for RSA of 2048 bits or more), kid from
// the key (its RFC 7638 thumbprint when it has none), typ Type.
func Sign(key jwk.Key, b Batch) ([]byte, error) {
	if !ValidBatchID(b.BatchID) {
		return nil, refuse(CodeBatchIDInvalid, "batch_id must be 1–%d characters of [A-Za-z0-9._:-]", MaxBatchIDLen)
	}
	if len(b.Records) == 0 {
		return nil, refuse(CodeBatchEmpty, "a batch needs at least one record")
	}
	if priv, err := jwk.IsPrivateKey(key); err != nil || !priv {
		return nil, fmt.Errorf("signing batch %s: not a private key", b.BatchID)
	}
	alg, err := algorithmFor(key)
	if err != nil {
		return nil, fmt.Errorf("signing batch %s: %w", b.BatchID, err)
	}
	kid, err := keyID(key)
	if err != nil {
		return nil, fmt.Errorf("signing batch %s: %w", b.BatchID, err)
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("signing batch %s: %w", b.BatchID, err)
	}
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, kid)
	_ = h.Set(jws.TypeKey, Type)
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return nil, fmt.Errorf("signing batch %s: %w", b.BatchID, err)
	}
	return out, nil
}

// keyID returns the key's kid, or its RFC 7638 thumbprint when it has none.
func keyID(k jwk.Key) (string, error) {
	if kid := k.KeyID(); kid != "" {
		return kid, nil
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// algorithmFor returns the one algorithm a key may sign batches with: the key's type
// and curve decide, and an alg member, if present, must agree.
func algorithmFor(k jwk.Key) (jwa.SignatureAlgorithm, error) {
	var alg jwa.SignatureAlgorithm
	switch k.KeyType() {
	case jwa.EC:
		c, ok := k.(interface {
			Crv() jwa.EllipticCurveAlgorithm
		})
		if !ok {
			return "", errors.New("an EC key without a curve")
		}
		switch c.Crv() {
		case jwa.P256:
			alg = jwa.ES256
		case jwa.P384:
			alg = jwa.ES384
		default:
			return "", fmt.Errorf("EC curve %s is not accepted (P-256 or P-384)", c.Crv())
		}
	case jwa.OKP:
		c, ok := k.(interface {
			Crv() jwa.EllipticCurveAlgorithm
		})
		if !ok || c.Crv() != jwa.Ed25519 {
			return "", errors.New("an OKP key that is not Ed25519")
		}
		alg = jwa.EdDSA
	case jwa.RSA:
		n, ok := k.(interface{ N() []byte })
		if !ok {
			return "", errors.New("an RSA key without a modulus")
		}
		if bits := new(big.Int).SetBytes(n.N()).BitLen(); bits < 2048 {
			return "", fmt.Errorf("an RSA key of %d bits: at least 2048 required", bits)
		}
		alg = jwa.RS256
	case jwa.OctetSeq:
		return "", errors.New("a symmetric (oct) key: batches are signed with a private key, never a shared secret")
	default:
		return "", fmt.Errorf("key type %q is not accepted", k.KeyType())
	}
	if a := k.Algorithm().String(); a != "" && a != alg.String() {
		return "", fmt.Errorf("the key's alg %s does not fit a %s key (want %s)", a, k.KeyType(), alg)
	}
	return alg, nil
}

// header is the part of a JWS protected header Verify reads.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Jku  json.RawMessage `json:"jku"`
	Jwk  json.RawMessage `json:"jwk"`
	X5u  json.RawMessage `json:"x5u"`
	X5c  json.RawMessage `json:"x5c"`
}

// Verify checks a pushed batch and returns it. body is a compact JWS (surrounding
// whitespace ignored); the JSON serialization is refused. Its alg must be one the
// signing key fits (ES256 for P-256, ES384 for P-384, EdDSA for Ed25519, RS256 for
// RSA ≥ 2048 bits; never none or HMAC), its kid must name a key in keys (by kid, or by
// RFC 7638 thumbprint for a key without one), and the signature must verify before
// anything in the payload is read. The payload must be exactly
// {"batch_id": "…", "records": [ … ]} with a valid batch id and 1..maxRecords records
// (maxRecords ≤ 0 means DefaultMaxRecords). Records are returned raw, whatever JSON
// values they are. Every refusal is an *Error.
func Verify(body []byte, keys jwk.Set, maxRecords int) (Batch, error) {
	if maxRecords <= 0 {
		maxRecords = DefaultMaxRecords
	}
	body = bytes.TrimSpace(body)
	head64, rest, ok1 := bytes.Cut(body, []byte{'.'})
	payload64, sig64, ok2 := bytes.Cut(rest, []byte{'.'})
	if !ok1 || !ok2 || bytes.IndexByte(sig64, '.') >= 0 || len(head64) == 0 {
		return Batch{}, refuse(CodeJWSMalformed, "the body is not a compact JWS (header.payload.signature)")
	}
	if len(head64) > maxHeaderBytes {
		return Batch{}, refuse(CodeJWSMalformed, "the protected header is larger than %d bytes", maxHeaderBytes)
	}
	hb, err := decode64(head64)
	if err != nil {
		return Batch{}, refuse(CodeJWSMalformed, "the protected header is not base64url")
	}
	var h header
	if err := strictJSON(hb, &h); err != nil {
		return Batch{}, refuse(CodeJWSMalformed, "the protected header is not a JSON object")
	}
	switch {
	case h.Alg == "":
		return Batch{}, refuse(CodeJWSMalformed, "the protected header has no alg")
	case strings.EqualFold(h.Alg, "none"):
		return Batch{}, refuse(CodeAlgNotAllowed, "alg none is refused: batches must be signed")
	case strings.HasPrefix(strings.ToUpper(h.Alg), "HS"):
		return Batch{}, refuse(CodeAlgNotAllowed, "HMAC algorithms are refused: sign with the agency's private key")
	case h.Alg != jwa.ES256.String() && h.Alg != jwa.ES384.String() && h.Alg != jwa.EdDSA.String() && h.Alg != jwa.RS256.String():
		return Batch{}, refuse(CodeAlgNotAllowed, "alg %q is not accepted (ES256, ES384, EdDSA, RS256)", trunc(h.Alg))
	case h.Crit != nil || h.B64 != nil:
		return Batch{}, refuse(CodeJWSMalformed, "critical header extensions are not accepted")
	case h.Jku != nil || h.Jwk != nil || h.X5u != nil || h.X5c != nil:
		return Batch{}, refuse(CodeJWSMalformed, "keys named in the header (jku, jwk, x5u, x5c) are not accepted: batches verify with registered keys only")
	case h.Typ != "" && !strings.EqualFold(h.Typ, Type) && !strings.EqualFold(h.Typ, "application/"+Type):
		return Batch{}, refuse(CodeJWSMalformed, "typ %q is not %s", trunc(h.Typ), Type)
	case h.Kid == "":
		return Batch{}, refuse(CodeUnknownKey, "the protected header has no kid")
	}
	key, ok := lookupKey(keys, h.Kid)
	if !ok {
		return Batch{}, refuse(CodeUnknownKey, "no registered key of this client has kid %q", trunc(h.Kid))
	}
	alg, err := algorithmFor(key)
	if err != nil {
		return Batch{}, refuse(CodeAlgNotAllowed, "key %q cannot verify batches: %v", trunc(h.Kid), err)
	}
	if alg.String() != h.Alg {
		return Batch{}, refuse(CodeAlgNotAllowed, "alg %s does not fit key %q (want %s)", h.Alg, trunc(h.Kid), alg)
	}
	sig, err := decode64(sig64)
	if err != nil {
		return Batch{}, refuse(CodeJWSMalformed, "the signature is not base64url")
	}
	verifier, err := jws.NewVerifier(alg)
	if err != nil {
		return Batch{}, refuse(CodeAlgNotAllowed, "alg %s: %v", alg, err)
	}
	if err := verifier.Verify(body[:len(head64)+1+len(payload64)], sig, key); err != nil {
		return Batch{}, refuse(CodeBadSignature, "the signature does not verify with key %q", trunc(h.Kid))
	}
	pb, err := decode64(payload64)
	if err != nil {
		return Batch{}, refuse(CodeBatchMalformed, "the payload is not base64url")
	}
	return decodeBatch(pb, maxRecords)
}

// decodeBatch reads {"batch_id", "records"} as a stream, so that a batch over the
// record limit is refused without holding every record.
func decodeBatch(payload []byte, maxRecords int) (Batch, error) {
	malformed := func(format string, args ...any) (Batch, error) {
		return Batch{}, refuse(CodeBatchMalformed, format, args...)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return malformed("the payload is not a JSON object")
	}
	var b Batch
	var seenID, seenRecords bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed("the payload is not valid JSON")
		}
		name, _ := tok.(string)
		switch name {
		case batchIDMember:
			if seenID {
				return malformed("batch_id appears twice")
			}
			seenID = true
			var id *string
			if err := dec.Decode(&id); err != nil {
				return Batch{}, refuse(CodeBatchIDInvalid, "batch_id is not a string")
			}
			if id != nil {
				b.BatchID = *id
			}
		case recordsMember:
			if seenRecords {
				return malformed("records appears twice")
			}
			seenRecords = true
			recs, err := decodeRecords(dec, maxRecords)
			if err != nil {
				return Batch{}, err
			}
			b.Records = recs
		default:
			return malformed("unknown member %q (a batch has batch_id and records only)", trunc(name))
		}
	}
	if _, err := dec.Token(); err != nil {
		return malformed("the payload is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("data after the payload object")
	}
	if !ValidBatchID(b.BatchID) {
		return Batch{}, refuse(CodeBatchIDInvalid, "batch_id must be 1–%d characters of [A-Za-z0-9._:-]", MaxBatchIDLen)
	}
	if len(b.Records) == 0 {
		return Batch{}, refuse(CodeBatchEmpty, "the batch has no records")
	}
	return b, nil
}

func decodeRecords(dec *json.Decoder, maxRecords int) ([]json.RawMessage, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, refuse(CodeBatchMalformed, "records is not valid JSON")
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, refuse(CodeBatchMalformed, "records is not an array")
	}
	var recs []json.RawMessage
	for dec.More() {
		if len(recs) == maxRecords {
			return nil, refuse(CodeTooManyRecords, "the batch has more than %d records", maxRecords)
		}
		var r json.RawMessage
		if err := dec.Decode(&r); err != nil {
			return nil, refuse(CodeBatchMalformed, "record %d is not valid JSON", len(recs))
		}
		recs = append(recs, r)
	}
	if _, err := dec.Token(); err != nil {
		return nil, refuse(CodeBatchMalformed, "records is not valid JSON")
	}
	return recs, nil
}

// lookupKey finds the key named kid: by its kid, else a key without one whose RFC
// 7638 thumbprint is kid (what Sign writes for such a key).
func lookupKey(keys jwk.Set, kid string) (jwk.Key, bool) {
	if keys == nil {
		return nil, false
	}
	if k, ok := keys.LookupKeyID(kid); ok {
		return k, true
	}
	for i := range keys.Len() {
		k, _ := keys.Key(i)
		if k.KeyID() != "" {
			continue
		}
		if tp, err := keyID(k); err == nil && tp == kid {
			return k, true
		}
	}
	return nil, false
}

// decode64 decodes unpadded base64url, the only encoding a compact JWS uses.
func decode64(s []byte) ([]byte, error) {
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(s)))
	n, err := base64.RawURLEncoding.Strict().Decode(out, s)
	return out[:n], err
}

// strictJSON decodes one JSON object with nothing after it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// trunc shortens caller-supplied text echoed in a refusal.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
