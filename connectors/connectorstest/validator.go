package connectorstest

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/verihub/verihub/contracts"
)

// Validate is a stand-in for the contracts validator with the same outcome shapes:
// it decodes the envelope strictly, requires a known type, an id, an as_of and, unless
// a tombstone, a data object, and returns *contracts.RecordError on refusal. It checks
// nothing inside data.
func Validate(raw []byte) (contracts.Envelope, []contracts.Reject, error) {
	refuse := func(code, field, msg string) (contracts.Envelope, []contracts.Reject, error) {
		return contracts.Envelope{}, nil, &contracts.RecordError{Rejects: []contracts.Reject{{Code: code, Field: field, Message: msg}}}
	}
	if len(raw) > contracts.MaxRecordBytes {
		return refuse(contracts.CodeTooLarge, "", "record too large")
	}
	var e contracts.Envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return refuse(contracts.CodeMalformedJSON, "", "not an envelope: "+err.Error())
	}
	switch {
	case !slices.Contains(contracts.RecordTypes, e.Type):
		return refuse(contracts.CodeUnknownType, "type", "unknown record type")
	case e.ID == "":
		return refuse(contracts.CodeRequired, "id", "id is required")
	case e.AsOf.IsZero():
		return refuse(contracts.CodeRequired, "as_of", "as_of is required")
	case e.Revision < 0:
		return refuse(contracts.CodeOutOfRange, "revision", "revision must not be negative")
	case !e.Deleted && (len(e.Data) == 0 || e.Data[0] != '{'):
		return refuse(contracts.CodeRequired, "data", "data object is required")
	}
	return e, nil, nil
}
