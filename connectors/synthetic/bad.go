package synthetic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/verihub/verihub/contracts"
)

// BadExpectation is one line of bad_expected.ndjson: the reject the hub must give the
// record on line Line (1-based) of bad.ndjson when it is loaded as Agency's data.
type BadExpectation struct {
	Line   int    `json:"line"`
	Agency string `json:"agency"`
	Code   string `json:"code"`
	Field  string `json:"field"`
}

// badWriter writes bad.ndjson and bad_expected.ndjson. Each bad record is a valid
// generated record with exactly one defect.
type badWriter struct {
	records  *bufio.Writer
	expected *bufio.Writer
	lines    int
	codes    map[string]int
	err      error
}

// Fields of each record type, by the role a defect needs.
var (
	enumFields = map[string][]string{
		contracts.TypeEmployer:    {"status", "size"},
		contracts.TypePerson:      {"status", "category"},
		contracts.TypeTaxpayer:    {"status", "credit_grade"},
		contracts.TypeCertificate: {"kind", "status"},
		contracts.TypePenalty:     {"severity", "status"},
		contracts.TypeRating:      {"rating"},
		contracts.TypeListing:     {"list_type"},
		contracts.TypeAward:       {"status"},
	}
	badEnumValues = []string{"Active", "unknown", "正常", "other", "AA", "pending"}
	dateFields    = map[string][]string{
		contracts.TypeEmployer:    {"enrolled_on"},
		contracts.TypeCertificate: {"issued_on"},
		contracts.TypePenalty:     {"decided_on"},
		contracts.TypeListing:     {"listed_on"},
		contracts.TypeAward:       {"granted_on"},
	}
	moneyFields = map[string][]string{
		contracts.TypeEmployerMonth: {"ui_due_fen", "ui_paid_fen", "arrears_fen"},
		contracts.TypePenalty:       {"fine_fen"},
		contracts.TypeAward:         {"amount_fen"},
	}
	countFields = map[string][]string{
		contracts.TypeEmployerMonth: {"insured_count", "new_ui_claimants", "retired_or_deceased"},
		contracts.TypePerson:        {"ui_months"},
	}
	requiredFields = map[string][]string{
		contracts.TypeEmployer:      {"name", "region_code", "enrolled_on"},
		contracts.TypeEmployerMonth: {"insured_count", "ui_due_fen"},
		contracts.TypePerson:        {"name", "status"},
		contracts.TypeTaxpayer:      {"name", "credit_grade"},
		contracts.TypeCertificate:   {"occupation_code", "issuer", "level"},
		contracts.TypePenalty:       {"violation", "severity"},
		contracts.TypeRating:        {"rating"},
		contracts.TypeListing:       {"authority", "listed_on"},
		contracts.TypeAward:         {"program", "granted_on"},
	}
	usccFields = map[string][]string{
		contracts.TypePenalty: {"uscc"},
		contracts.TypeListing: {"subject_uscc"},
		contracts.TypeAward:   {"subject_uscc"},
		contracts.TypePerson:  {"employer_uscc"},
	}
	idNumberFields = map[string][]string{
		contracts.TypeCertificate: {"id_number"},
		contracts.TypeListing:     {"subject_id_number"},
		contracts.TypeAward:       {"subject_id_number"},
	}
	unknownFieldNames = []string{"remark", "contact_phone", "source_system", "legal_person"}
)

// defects lists every defect the generator plants, by the reject code it must draw.
var defects = []string{
	contracts.CodeUSCCChecksum, contracts.CodeIDChecksum, contracts.CodeIDBirthDate, contracts.CodeEnum,
	contracts.CodeUnknownField, contracts.CodeDate, contracts.CodeMonth, contracts.CodeNegativeMoney,
	contracts.CodeNegative, contracts.CodeRequired, contracts.CodeIDMismatch, contracts.CodeMalformedJSON,
	contracts.CodeUnknownType, contracts.CodeTimestamp,
}

// stringField returns the string value of a data field.
func stringField(m map[string]json.RawMessage, name string) string {
	var s string
	if raw, ok := m[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func setString(m map[string]json.RawMessage, name, v string) { m[name] = mustJSON(v) }

// nonEmpty returns the fields among names whose string value is not empty.
func nonEmpty(m map[string]json.RawMessage, names []string) []string {
	var out []string
	for _, n := range names {
		if stringField(m, n) != "" {
			out = append(out, n)
		}
	}
	return out
}

// add writes a mutated copy of the valid record e with one defect, and its expectation.
func (w *badWriter) add(r *rand.Rand, e contracts.Envelope) {
	if w.err != nil || e.Deleted {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &m); err != nil {
		panic("synthetic: generated data does not decode: " + err.Error())
	}
	// Draw defects until one applies to this type; every type takes unknown_field.
	for k := 0; ; k++ {
		code := defects[r.IntN(len(defects))]
		if k == 32 {
			code = contracts.CodeUnknownField
		}
		line, field, ok := mutate(r, code, e, m)
		if !ok {
			continue
		}
		w.lines++
		if w.codes == nil {
			w.codes = map[string]int{}
		}
		w.codes[code]++
		if _, err := w.records.Write(line); err != nil {
			w.err = fmt.Errorf("writing bad.ndjson: %w", err)
			return
		}
		exp := mustJSON(BadExpectation{Line: w.lines, Agency: contracts.AgencyOf(e.Type), Code: code, Field: field})
		if _, err := w.expected.Write(append(exp, '\n')); err != nil {
			w.err = fmt.Errorf("writing bad_expected.ndjson: %w", err)
		}
		return
	}
}

// mutate applies one defect to a copy of e (whose data is m) and returns the line.
// ok is false when the defect does not apply to the record's type.
func mutate(r *rand.Rand, code string, e contracts.Envelope, orig map[string]json.RawMessage) (line []byte, field string, ok bool) {
	m := make(map[string]json.RawMessage, len(orig)+1)
	for k, v := range orig {
		m[k] = v
	}
	env := e
	encode := func() []byte {
		env.Data = mustJSON(m)
		return appendEnvelope(nil, env)
	}
	switch code {
	case contracts.CodeUSCCChecksum:
		fs := nonEmpty(m, usccFields[e.Type])
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		u := stringField(m, f)
		c := u[17]
		for c == u[17] {
			c = usccCharset[r.IntN(len(usccCharset))]
		}
		setString(m, f, u[:17]+string(c))
		return encode(), "data." + f, true
	case contracts.CodeIDChecksum, contracts.CodeIDBirthDate:
		fs := nonEmpty(m, idNumberFields[e.Type])
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		id := stringField(m, f)
		if code == contracts.CodeIDChecksum {
			c := id[17]
			for c == id[17] {
				c = idCheckChars[r.IntN(len(idCheckChars))]
			}
			setString(m, f, id[:17]+string(c))
		} else {
			bad := pick(r, []string{"0230", "1301", "0431", "0000", "0229"})
			year := id[6:10]
			if bad == "0229" {
				year = pick(r, []string{"1981", "1990", "2001"}) // not leap years
			}
			setString(m, f, makeIDNumber(id[:6], year+bad, int(id[14]-'0')*100+int(id[15]-'0')*10+int(id[16]-'0')))
		}
		return encode(), "data." + f, true
	case contracts.CodeEnum:
		fs := enumFields[e.Type]
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		setString(m, f, pick(r, badEnumValues))
		return encode(), "data." + f, true
	case contracts.CodeUnknownField:
		f := pick(r, unknownFieldNames)
		setString(m, f, "见附件")
		return encode(), "data." + f, true
	case contracts.CodeDate:
		fs := nonEmpty(m, dateFields[e.Type])
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		d := stringField(m, f)
		var bad string
		switch r.IntN(4) {
		case 0:
			bad = strings.ReplaceAll(d, "-", "/")
		case 1:
			bad = d[:4] + d[5:7] + d[8:]
		case 2:
			bad = d[:4] + "-02-30"
		default:
			bad = d[:8] + "32"
		}
		setString(m, f, bad)
		return encode(), "data." + f, true
	case contracts.CodeMonth:
		if e.Type != contracts.TypeEmployerMonth {
			return nil, "", false
		}
		mo := stringField(m, "month")
		bad := pick(r, []string{mo[:4] + "-13", mo[:4] + "-00", mo[:4] + "/" + mo[5:], mo[:4] + mo[5:]})
		setString(m, "month", bad)
		env.ID = stringField(m, "uscc") + ":" + bad // keep the id equal to the natural key
		return encode(), "data.month", true
	case contracts.CodeNegativeMoney, contracts.CodeNegative:
		table := moneyFields
		if code == contracts.CodeNegative {
			table = countFields
		}
		fs := table[e.Type]
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		m[f] = json.RawMessage(strconv.Itoa(-1 - r.IntN(50000)))
		return encode(), "data." + f, true
	case contracts.CodeRequired:
		fs := requiredFields[e.Type]
		if len(fs) == 0 {
			return nil, "", false
		}
		f := pick(r, fs)
		delete(m, f)
		return encode(), "data." + f, true
	case contracts.CodeIDMismatch:
		switch e.Type {
		case contracts.TypeEmployerMonth:
			mo := stringField(m, "month")
			y, _ := strconv.Atoi(mo[:4])
			env.ID = fmt.Sprintf("%s:%04d-%s", stringField(m, "uscc"), y-1, mo[5:])
		case contracts.TypeRating:
			var y int
			_ = json.Unmarshal(m["year"], &y)
			env.ID = fmt.Sprintf("%s:%04d", stringField(m, "uscc"), y+1)
		case contracts.TypePenalty, contracts.TypeListing, contracts.TypeAward:
			env.ID = e.ID + "-1"
		case contracts.TypeCertificate:
			last := e.ID[len(e.ID)-1]
			env.ID = e.ID[:len(e.ID)-1] + string('0'+(last-'0'+1)%10)
		default:
			return nil, "", false
		}
		return encode(), "id", true
	case contracts.CodeMalformedJSON:
		full := appendEnvelope(nil, e)
		cut := 1 + r.IntN(len(full)-3) // a strict prefix of an object is never valid JSON
		return append(bytes.TrimRight(full[:cut], "\n"), '\n'), "", true
	case contracts.CodeUnknownType:
		env.Type = e.Type + "s"
		return encode(), "type", true
	case contracts.CodeTimestamp:
		line := encode()
		good := []byte(`"as_of":"` + e.AsOf.UTC().Format("2006-01-02T15:04:05Z07:00") + `"`)
		bad := []byte(`"as_of":"` + e.AsOf.UTC().Format(pick(r, []string{"2006-01-02 15:04:05", "2006/01/02T15:04:05Z", "2006-01-02"})) + `"`)
		return bytes.Replace(line, good, bad, 1), "as_of", true
	}
	return nil, "", false
}
