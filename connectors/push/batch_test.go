package push

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// keys made once per test binary: RSA generation is slow.
var (
	keysOnce sync.Once
	testKeys map[string]jwk.Key // name → private key (kid = name)
)

func privateKeys(t testing.TB) map[string]jwk.Key {
	t.Helper()
	keysOnce.Do(func() {
		testKeys = map[string]jwk.Key{}
		mk := func(name string, raw any) {
			k, err := jwk.FromRaw(raw)
			if err != nil {
				panic(err)
			}
			_ = k.Set(jwk.KeyIDKey, name)
			testKeys[name] = k
		}
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p256b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		r2048, _ := rsa.GenerateKey(rand.Reader, 2048)
		r1024, _ := rsa.GenerateKey(rand.Reader, 1024)
		mk("p256", p256)
		mk("p256-other", p256b)
		mk("p384", p384)
		mk("p521", p521)
		mk("ed", ed)
		mk("rsa2048", r2048)
		mk("rsa1024", r1024)
	})
	return testKeys
}

func publicSet(t testing.TB, keys ...jwk.Key) jwk.Set {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	return set
}

func records(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"type":"si.employer_month","id":"91350100M000100Y43:2018-%02d","revision":%d,"as_of":"2019-01-05T00:00:00Z","data":{"uscc":"91350100M000100Y43","month":"2018-12","insured_count":%d}}`, i%12+1, i, i))
	}
	return out
}

// forge builds a compact JWS by hand: any header, any payload, signed by signer
// with alg (no signature when signer is nil).
func forge(t testing.TB, head map[string]any, payload []byte, alg jwa.SignatureAlgorithm, key any) []byte {
	t.Helper()
	hb, err := json.Marshal(head)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var sig []byte
	if key != nil {
		s, err := jws.NewSigner(alg)
		if err != nil {
			t.Fatal(err)
		}
		if sig, err = s.Sign([]byte(input), key); err != nil {
			t.Fatal(err)
		}
	}
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
}

func TestSignVerifyAlgorithms(t *testing.T) {
	keys := privateKeys(t)
	for _, name := range []string{"p256", "p384", "ed", "rsa2048"} {
		t.Run(name, func(t *testing.T) {
			b := Batch{BatchID: "b-" + name, Records: records(3)}
			body, err := Sign(keys[name], b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(body, publicSet(t, keys["p256-other"], keys[name]), 0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.BatchID != b.BatchID || len(got.Records) != 3 || got.Digest() != b.Digest() {
				t.Errorf("got %s with %d records, digest %s; want %s, 3, %s", got.BatchID, len(got.Records), got.Digest(), b.BatchID, b.Digest())
			}
			msg, err := jws.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			h := msg.Signatures()[0].ProtectedHeaders()
			if h.KeyID() != name || h.Type() != Type {
				t.Errorf("header kid %q typ %q", h.KeyID(), h.Type())
			}
		})
	}
}

func TestSignVerifyThumbprintKID(t *testing.T) {
	raw, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, err := Sign(key, Batch{BatchID: "x", Records: records(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(body, publicSet(t, key), 0); err != nil {
		t.Fatalf("a key without kid, named by thumbprint: %v", err)
	}
	if _, err := Verify(body, publicSet(t, privateKeys(t)["p256"]), 0); CodeOf(err) != CodeUnknownKey {
		t.Errorf("another key set: %v, want %s", err, CodeUnknownKey)
	}
}

func TestSignRefuses(t *testing.T) {
	keys := privateKeys(t)
	pub, _ := keys["p256"].PublicKey()
	oct, _ := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	cases := []struct {
		name string
		key  jwk.Key
		b    Batch
		code string
	}{
		{"public key", pub, Batch{BatchID: "a", Records: records(1)}, ""},
		{"oct key", oct, Batch{BatchID: "a", Records: records(1)}, ""},
		{"P-521", keys["p521"], Batch{BatchID: "a", Records: records(1)}, ""},
		{"bad id", keys["p256"], Batch{BatchID: "a b", Records: records(1)}, CodeBatchIDInvalid},
		{"empty", keys["p256"], Batch{BatchID: "a"}, CodeBatchEmpty},
		{"invalid record", keys["p256"], Batch{BatchID: "a", Records: []json.RawMessage{json.RawMessage(`{`)}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Sign(c.key, c.b)
			if err == nil {
				t.Fatal("signed")
			}
			if CodeOf(err) != c.code {
				t.Errorf("code %q, want %q (%v)", CodeOf(err), c.code, err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	keys := privateKeys(t)
	p256 := keys["p256"]
	set := publicSet(t, p256, keys["ed"], keys["rsa1024"])
	good, _ := json.Marshal(Batch{BatchID: "b1", Records: records(2)})
	signed := func(head map[string]any, payload []byte) []byte {
		return forge(t, head, payload, jwa.ES256, p256)
	}
	es := func(extra ...any) map[string]any {
		h := map[string]any{"alg": "ES256", "kid": "p256"}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	valid := signed(es("typ", Type), good)
	pubJSON, _ := json.Marshal(publicSet(t, p256))
	tampered := bytes.Clone(valid)
	parts := bytes.Split(tampered, []byte{'.'})
	otherPayload, _ := json.Marshal(Batch{BatchID: "b1", Records: records(3)})
	tampered = bytes.Join([][]byte{parts[0], []byte(base64.RawURLEncoding.EncodeToString(otherPayload)), parts[2]}, []byte{'.'})
	octSet := jwk.NewSet()
	oct, _ := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	_ = oct.Set(jwk.KeyIDKey, "oct")
	_ = octSet.AddKey(oct)
	withAlg, _ := p256.PublicKey()
	_ = withAlg.Set(jwk.AlgorithmKey, jwa.ES384)
	algSet := jwk.NewSet()
	_ = algSet.AddKey(withAlg)

	cases := []struct {
		name string
		body []byte
		keys jwk.Set
		max  int
		code string
	}{
		{"valid with typ", valid, set, 0, ""},
		{"valid without typ", signed(es(), good), set, 0, ""},
		{"valid typ with media prefix", signed(es("typ", "application/"+Type), good), set, 0, ""},
		{"trailing newline", append(bytes.Clone(valid), '\n'), set, 0, ""},
		{"alg none", forge(t, map[string]any{"alg": "none", "kid": "p256"}, good, "", nil), set, 0, CodeAlgNotAllowed},
		{"alg NONE", forge(t, map[string]any{"alg": "NONE", "kid": "p256"}, good, "", nil), set, 0, CodeAlgNotAllowed},
		{"HS256 keyed with the public key", forge(t, map[string]any{"alg": "HS256", "kid": "p256"}, good, jwa.HS256, pubJSON), set, 0, CodeAlgNotAllowed},
		{"HS256 with an oct key registered", forge(t, map[string]any{"alg": "HS256", "kid": "oct"}, good, jwa.HS256, []byte("0123456789abcdef0123456789abcdef")), octSet, 0, CodeAlgNotAllowed},
		{"PS256", forge(t, map[string]any{"alg": "PS256", "kid": "p256"}, good, "", nil), set, 0, CodeAlgNotAllowed},
		{"ES512", forge(t, map[string]any{"alg": "ES512", "kid": "p256"}, good, "", nil), set, 0, CodeAlgNotAllowed},
		{"RS256 claimed for an EC key", forge(t, map[string]any{"alg": "RS256", "kid": "p256"}, good, jwa.RS256, keys["rsa2048"]), set, 0, CodeAlgNotAllowed},
		{"EdDSA claimed for an EC key", forge(t, map[string]any{"alg": "EdDSA", "kid": "p256"}, good, jwa.EdDSA, keys["ed"]), set, 0, CodeAlgNotAllowed},
		{"key alg member disagrees", valid, algSet, 0, CodeAlgNotAllowed},
		{"RSA key under 2048 bits", forge(t, map[string]any{"alg": "RS256", "kid": "rsa1024"}, good, jwa.RS256, keys["rsa1024"]), set, 0, CodeAlgNotAllowed},
		{"unknown kid", forge(t, map[string]any{"alg": "ES256", "kid": "p256-other"}, good, jwa.ES256, keys["p256-other"]), set, 0, CodeUnknownKey},
		{"no kid", forge(t, map[string]any{"alg": "ES256"}, good, jwa.ES256, p256), set, 0, CodeUnknownKey},
		{"no keys", valid, nil, 0, CodeUnknownKey},
		{"another key under our kid", forge(t, es(), good, jwa.ES256, keys["p256-other"]), set, 0, CodeBadSignature},
		{"tampered payload", tampered, set, 0, CodeBadSignature},
		{"short signature", []byte(string(parts[0]) + "." + string(parts[1]) + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 63))), set, 0, CodeBadSignature},
		{"empty signature", []byte(string(parts[0]) + "." + string(parts[1]) + "."), set, 0, CodeBadSignature},
		{"JSON serialization", []byte(`{"payload":"e30","signatures":[]}`), set, 0, CodeJWSMalformed},
		{"two parts", parts[0], set, 0, CodeJWSMalformed},
		{"four parts", append(bytes.Clone(valid), ".x"...), set, 0, CodeJWSMalformed},
		{"empty", nil, set, 0, CodeJWSMalformed},
		{"header not base64url", []byte("a+b/." + string(parts[1]) + "." + string(parts[2])), set, 0, CodeJWSMalformed},
		{"padded header", []byte(string(parts[0]) + "=." + string(parts[1]) + "." + string(parts[2])), set, 0, CodeJWSMalformed},
		{"header not JSON", []byte(base64.RawURLEncoding.EncodeToString([]byte("alg")) + "." + string(parts[1]) + "." + string(parts[2])), set, 0, CodeJWSMalformed},
		{"no alg", signed(map[string]any{"kid": "p256"}, good), set, 0, CodeJWSMalformed},
		{"jwk in header", signed(es("jwk", map[string]any{"kty": "EC"}), good), set, 0, CodeJWSMalformed},
		{"jku in header", signed(es("jku", "https://evil.example/jwks"), good), set, 0, CodeJWSMalformed},
		{"crit", signed(es("crit", []string{"exp"}), good), set, 0, CodeJWSMalformed},
		{"b64 false", signed(es("b64", false), good), set, 0, CodeJWSMalformed},
		{"typ JWT", signed(es("typ", "JWT"), good), set, 0, CodeJWSMalformed},
		{"signature not base64url", []byte(string(parts[0]) + "." + string(parts[1]) + ".***"), set, 0, CodeJWSMalformed},
		{"payload not JSON", signed(es(), []byte("batch")), set, 0, CodeBatchMalformed},
		{"payload an array", signed(es(), []byte(`[]`)), set, 0, CodeBatchMalformed},
		{"payload truncated", signed(es(), good[:len(good)-1]), set, 0, CodeBatchMalformed},
		{"payload trailing data", signed(es(), append(bytes.Clone(good), "{}"...)), set, 0, CodeBatchMalformed},
		{"unknown member", signed(es(), []byte(`{"batch_id":"a","records":[{}],"extra":1}`)), set, 0, CodeBatchMalformed},
		{"records twice", signed(es(), []byte(`{"batch_id":"a","records":[{}],"records":[{}]}`)), set, 0, CodeBatchMalformed},
		{"batch_id twice", signed(es(), []byte(`{"batch_id":"a","batch_id":"b","records":[{}]}`)), set, 0, CodeBatchMalformed},
		{"records an object", signed(es(), []byte(`{"batch_id":"a","records":{}}`)), set, 0, CodeBatchMalformed},
		{"record not JSON", signed(es(), []byte(`{"batch_id":"a","records":[{"a":}]}`)), set, 0, CodeBatchMalformed},
		{"no batch_id", signed(es(), []byte(`{"records":[{}]}`)), set, 0, CodeBatchIDInvalid},
		{"batch_id null", signed(es(), []byte(`{"batch_id":null,"records":[{}]}`)), set, 0, CodeBatchIDInvalid},
		{"batch_id a number", signed(es(), []byte(`{"batch_id":7,"records":[{}]}`)), set, 0, CodeBatchIDInvalid},
		{"batch_id with a space", signed(es(), []byte(`{"batch_id":"a b","records":[{}]}`)), set, 0, CodeBatchIDInvalid},
		{"batch_id 129 chars", signed(es(), []byte(`{"batch_id":"`+strings.Repeat("a", 129)+`","records":[{}]}`)), set, 0, CodeBatchIDInvalid},
		{"batch_id 128 chars", signed(es(), []byte(`{"batch_id":"`+strings.Repeat("a", 128)+`","records":[{}]}`)), set, 0, ""},
		{"batch_id all punctuation allowed", signed(es(), []byte(`{"batch_id":"A.z_0:9-","records":[{}]}`)), set, 0, ""},
		{"no records", signed(es(), []byte(`{"batch_id":"a"}`)), set, 0, CodeBatchEmpty},
		{"records null", signed(es(), []byte(`{"batch_id":"a","records":null}`)), set, 0, CodeBatchEmpty},
		{"records empty", signed(es(), []byte(`{"batch_id":"a","records":[]}`)), set, 0, CodeBatchEmpty},
		{"records at the limit", signed(es(), []byte(`{"batch_id":"a","records":[{},{},{}]}`)), set, 3, ""},
		{"records over the limit", signed(es(), []byte(`{"batch_id":"a","records":[{},{},{},{}]}`)), set, 3, CodeTooManyRecords},
		{"records not objects are left to the validator", signed(es(), []byte(`{"batch_id":"a","records":[1,"x",null]}`)), set, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Verify(c.body, c.keys, c.max)
			if got := CodeOf(err); got != c.code || (c.code == "" && err != nil) {
				t.Fatalf("code %q, want %q (%v)", got, c.code, err)
			}
			if c.code != "" {
				if b.BatchID != "" || b.Records != nil {
					t.Errorf("a refused batch came back with content: %+v", b)
				}
				if strings.Contains(err.Error(), "91350100M000100Y43") {
					t.Errorf("refusal echoes record content: %v", err)
				}
			} else if len(b.Records) == 0 || b.BatchID == "" {
				t.Errorf("accepted batch came back empty: %+v", b)
			}
		})
	}
}

func TestVerifyDefaultLimit(t *testing.T) {
	key := privateKeys(t)["p256"]
	set := publicSet(t, key)
	for _, c := range []struct {
		n    int
		code string
	}{{DefaultMaxRecords, ""}, {DefaultMaxRecords + 1, CodeTooManyRecords}} {
		body, err := Sign(key, Batch{BatchID: "big", Records: records(c.n)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(body, set, 0); CodeOf(err) != c.code {
			t.Errorf("%d records: %v, want code %q", c.n, err, c.code)
		}
	}
}

func TestDigest(t *testing.T) {
	a := Batch{Records: []json.RawMessage{json.RawMessage(`{"a": 1}`), json.RawMessage(`{"b":2}`)}}
	cases := []struct {
		name string
		b    Batch
		same bool
	}{
		{"same records other whitespace", Batch{Records: []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(" {\"b\" :2}\n")}}, true},
		{"other batch id", Batch{BatchID: "z", Records: a.Records}, true},
		{"order swapped", Batch{Records: []json.RawMessage{a.Records[1], a.Records[0]}}, false},
		{"one record fewer", Batch{Records: a.Records[:1]}, false},
		{"boundary moved", Batch{Records: []json.RawMessage{json.RawMessage(`{"a":1}{"b":2}`)}}, false},
	}
	for _, c := range cases {
		if got := c.b.Digest() == a.Digest(); got != c.same {
			t.Errorf("%s: same digest %v, want %v", c.name, got, c.same)
		}
	}
}

func FuzzVerify(f *testing.F) {
	key := privateKeys(f)["p256"]
	set := publicSet(f, key, privateKeys(f)["ed"])
	valid, err := Sign(key, Batch{BatchID: "seed", Records: records(2)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte("e30.e30."))
	f.Add([]byte(`{"payload":"e30"}`))
	f.Add(forge(f, map[string]any{"alg": "none", "kid": "p256"}, []byte(`{"batch_id":"a","records":[{}]}`), "", nil))
	f.Add(forge(f, map[string]any{"alg": "ES256", "kid": "p256"}, []byte(`{"batch_id":"a","records":[1,2]}`), jwa.ES256, key))
	f.Add(forge(f, map[string]any{"alg": "ES256", "kid": "p256"}, []byte(`{"batch_id":"a","records":[{"x":[`), jwa.ES256, key))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Verify(body, set, 5)
		if err != nil {
			if CodeOf(err) == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
			return
		}
		if !ValidBatchID(b.BatchID) || len(b.Records) == 0 || len(b.Records) > 5 {
			t.Fatalf("accepted an invalid batch: %q with %d records", b.BatchID, len(b.Records))
		}
		for i, r := range b.Records {
			if !json.Valid(r) {
				t.Fatalf("record %d is not valid JSON: %q", i, r)
			}
		}
	})
}

// BenchmarkVerify measures Verify of a signed 1,000-record batch of ~250-byte
// si.employer_month envelopes.
func BenchmarkVerify(b *testing.B) {
	key := privateKeys(b)["p256"]
	set := publicSet(b, key)
	body, err := Sign(key, Batch{BatchID: "bench", Records: records(1000)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(body, set, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeBatch reaches the payload reader directly: through Verify a fuzzer can
// rarely get past the signature.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`{"batch_id":"a","records":[{}]}`,
		`{"batch_id":"a","records":[1,"x",null,[],{"a":[1,2]}]}`,
		`{"records":null,"batch_id":"a"}`,
		`{"batch_id":"a","records":[{},{},{},{},{},{}]}`,
		`{"batch_id":"a","records":[{"a":}]}`,
		`{"batch_id":"a","batch_id":"b"}`,
		` {"batch_id" : "a" , "records" : [ {} ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := decodeBatch(payload, 5)
		if err != nil {
			if CodeOf(err) == "" {
				t.Fatalf("refusal without a code: %v", err)
			}
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		if !ValidBatchID(b.BatchID) || len(b.Records) == 0 || len(b.Records) > 5 {
			t.Fatalf("accepted an invalid batch: %q with %d records", b.BatchID, len(b.Records))
		}
		var back struct {
			BatchID string            `json:"batch_id"`
			Records []json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal(payload, &back); err != nil || back.BatchID != b.BatchID || len(back.Records) != len(b.Records) {
			t.Fatalf("encoding/json reads %q differently: %v %+v", payload, err, back)
		}
		for i := range b.Records {
			if !bytes.Equal(b.Records[i], back.Records[i]) {
				t.Fatalf("record %d: %q, encoding/json reads %q", i, b.Records[i], back.Records[i])
			}
		}
	})
}
