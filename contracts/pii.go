package contracts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Protector keeps resident ID numbers (sensitive personal information under PIPL) out
// of everything past the ingest edge. It derives:
//   - a keyed pseudonym, HMAC-SHA-256(secret, id), used as the person's store key,
//     Kafka message key and log correlation;
//   - a sealed form, AES-256-GCM with a synthetic nonce derived from the plaintext,
//     so the same ID always seals to the same bytes (topics and stores stay
//     byte-comparable across rebuilds) while only the key holder can open it.
//
// A Protector is safe for concurrent use.
type Protector struct {
	pseudoKey []byte
	nonceKey  []byte
	aead      cipher.AEAD
}

const sealedPrefix = "pii1:"

// NewProtector derives its keys from one secret of at least 32 bytes.
func NewProtector(secret []byte) (*Protector, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("pii secret: %d bytes, need at least 32", len(secret))
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("verihub pii " + label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("seal"))
	if err != nil {
		return nil, fmt.Errorf("pii cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pii cipher: %w", err)
	}
	return &Protector{pseudoKey: derive("pseudonym"), nonceKey: derive("nonce"), aead: aead}, nil
}

// Pseudonym returns the keyed pseudonym of an ID number (32 hex characters).
func (p *Protector) Pseudonym(id string) string {
	m := hmac.New(sha256.New, p.pseudoKey)
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Seal encrypts an ID number deterministically.
func (p *Protector) Seal(id string) string {
	m := hmac.New(sha256.New, p.nonceKey)
	m.Write([]byte(id))
	nonce := m.Sum(nil)[:p.aead.NonceSize()]
	out := p.aead.Seal(append([]byte(nil), nonce...), nonce, []byte(id), nil)
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a sealed ID number.
func (p *Protector) Open(sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", errors.New("opening sealed id: not sealed")
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) < p.aead.NonceSize() {
		return "", errors.New("opening sealed id: malformed")
	}
	n := p.aead.NonceSize()
	pt, err := p.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", errors.New("opening sealed id: authentication failed")
	}
	return string(pt), nil
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// SubjectKey returns the key a subject has past the ingest edge:
// "uscc:<code>" for an enterprise, "person:<pseudonym>" for a person.
func (p *Protector) SubjectKey(s Subject) string {
	if s.Kind == KindPerson {
		return "person:" + p.Pseudonym(s.Key)
	}
	return "uscc:" + s.Key
}

// idFields are the data fields that hold a resident ID number, per record type.
var idFields = map[string][]string{
	TypePerson:      {"id_number"},
	TypeCertificate: {"id_number"},
	TypeListing:     {"subject_id_number"},
	TypeAward:       {"subject_id_number"},
}

// Protect returns the envelope with every ID number in its data sealed (and, for
// si.person, whose id is the ID number, the id replaced by the pseudonym), together
// with its subject key. It is deterministic. The envelope must have been validated.
func (p *Protector) Protect(e Envelope) (Envelope, string, error) {
	subj, err := SubjectOf(e)
	if err != nil {
		return Envelope{}, "", err
	}
	key := p.SubjectKey(subj)
	fields := idFields[e.Type]
	if len(fields) == 0 || len(e.Data) == 0 {
		return e, key, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &m); err != nil {
		return Envelope{}, "", fmt.Errorf("protecting %s: %w", e.Type, err)
	}
	for _, f := range fields {
		raw, ok := m[f]
		if !ok {
			continue
		}
		var id string
		if err := json.Unmarshal(raw, &id); err != nil {
			return Envelope{}, "", fmt.Errorf("protecting %s field %s: %w", e.Type, f, err)
		}
		if id == "" || IsSealed(id) {
			continue
		}
		sealed, _ := json.Marshal(p.Seal(id))
		m[f] = sealed
	}
	data, err := json.Marshal(m)
	if err != nil {
		return Envelope{}, "", fmt.Errorf("protecting %s: %w", e.Type, err)
	}
	out := e
	out.Data = data
	if e.Type == TypePerson && !IsSealed(e.ID) {
		out.ID = strings.TrimPrefix(key, "person:")
	}
	return out, key, nil
}

// MaskID shows an ID number the way logs, metrics and the console may:
// the address code and the last four characters ("110105********002X").
func MaskID(id string) string {
	if len(id) < 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

// SealBytes encrypts an arbitrary payload (a refused record kept as a dead letter may
// hold an ID number anywhere). Unlike Seal it uses a random nonce: the same payload
// seals differently each time.
func (p *Protector) SealBytes(b []byte) ([]byte, error) {
	nonce := make([]byte, p.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealing payload: %w", err)
	}
	return p.aead.Seal(nonce, nonce, b, []byte("payload")), nil
}

// OpenBytes decrypts what SealBytes sealed.
func (p *Protector) OpenBytes(b []byte) ([]byte, error) {
	n := p.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("opening sealed payload: too short")
	}
	pt, err := p.aead.Open(nil, b[:n], b[n:], []byte("payload"))
	if err != nil {
		return nil, errors.New("opening sealed payload: authentication failed")
	}
	return pt, nil
}
