package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/hub/auth"
)

// target is one verification to send and the decision the generator expects.
type target struct {
	body     []byte // the request as JSON, also a batch item
	decision string
}

// readTargets reads expected.ndjson (hub gen output) into requests, optionally only
// those of one program, shuffled with seed so that runs draw a realistic mix.
func readTargets(path, program string, seed uint64) ([]target, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening targets: %w", err)
	}
	defer fh.Close()
	return parseTargets(fh, program, seed)
}

func parseTargets(r io.Reader, program string, seed uint64) ([]target, error) {
	var out []target
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e synthetic.Expected
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("targets line %d: %w", line, err)
		}
		if e.Program == "" || (e.Subject.USCC == "") == (e.Subject.IDNumber == "") {
			return nil, fmt.Errorf("targets line %d: not an expected.ndjson line", line)
		}
		if program != "" && e.Program != program {
			continue
		}
		subject := map[string]any{"uscc": e.Subject.USCC}
		params := map[string]any{"year": e.Params.Year}
		if e.Subject.IDNumber != "" {
			subject = map[string]any{"id_number": e.Subject.IDNumber}
			params = map[string]any{"certificate_no": e.Params.CertificateNo, "application_date": e.Params.ApplicationDate}
		}
		item := map[string]any{"program": e.Program, "subject": subject, "params": params}
		body, err := json.Marshal(item)
		if err != nil {
			return nil, err
		}
		out = append(out, target{body: body, decision: e.Decision})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading targets: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no targets (program %q)", program)
	}
	rng := rand.New(rand.NewPCG(seed, 0xbe4c))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

// readKey reads a private JWK with a client_id member (hub demo's portal.jwk).
func readKey(path string) (jwk.Key, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading key: %w", err)
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, "", fmt.Errorf("parsing key %s: %w", path, err)
	}
	id := auth.ClientIDOf(k)
	if id == "" {
		return nil, "", fmt.Errorf("key %s has no %s member", path, auth.ClientIDMember)
	}
	return k, id, nil
}
