package contracts

import (
	"strings"
	"time"
)

// Kinds and statuses of CheckCode.
const (
	CodeKindUSCC = "uscc"
	CodeKindID   = "id"

	StatusValid   = "valid"
	StatusInvalid = "invalid"
	StatusLegacy  = "legacy" // fails only the GB 32100 check character: an early pilot USCC
)

// CodeResult is CheckCode's verdict on one identifier.
type CodeResult struct {
	Code    string `json:"code"`
	Kind    string `json:"kind"`   // CodeKindUSCC or CodeKindID
	Status  string `json:"status"` // StatusValid, StatusInvalid or StatusLegacy
	Reason  string `json:"reason,omitempty"`
	Assumed bool   `json:"assumed,omitempty"` // the kind was inferred from an ambiguous shape
}

// CheckCode checks one identifier for an operator (hub ids check). kind is
// CodeKindUSCC, CodeKindID, or "" to infer it from the shape: 15 digits is an ID
// number; 18 characters with letters (other than a final X) is a USCC; 18 digits (or
// 17 and a final X) can be either, and is taken as an ID number when positions 7–14
// form a plausible birth date, otherwise as a USCC. When the assumed kind fails but the
// other passes, the other is reported. Reason says what was assumed and why a code is
// invalid or legacy.
//
// A USCC failing only the GB 32100 check character has status legacy whether or not
// it is in legacy (the allowlist): the reason says which, so an operator can decide.
// An ID number is normalised as NormalizeIDNumber does, and the reason gives the normal
// form when it differs from the input (the operator typed the number; CheckCode logs
// nothing).
func CheckCode(kind, code string, legacy ...string) CodeResult {
	set := make(map[string]bool, len(legacy))
	for _, c := range legacy {
		set[c] = true
	}
	return checkCode(kind, code, set, time.Now())
}

func checkCode(kind, code string, legacy map[string]bool, now time.Time) CodeResult {
	switch kind {
	case CodeKindUSCC:
		return checkUSCCCode(code, legacy)
	case CodeKindID:
		return checkIDCode(code, now)
	case "":
	default:
		return CodeResult{Code: code, Kind: kind, Status: StatusInvalid, Reason: "unknown kind " + kind + ": use uscc or id"}
	}

	var res CodeResult
	switch {
	case len(code) == 18 && isDigits(code[:17]) && (isDigits(code[17:]) || code[17] == 'X' || code[17] == 'x'):
		if plausibleBirthDate(code[6:14], now) {
			res = checkIDCode(code, now)
			if res.Status == StatusInvalid {
				if alt := checkUSCCCode(code, legacy); alt.Status == StatusValid {
					alt.Assumed = true
					alt.Reason = "taken as a USCC: positions 7–14 read as a birth date, but it is not a valid ID number (" + res.Reason + ") and it is a valid USCC"
					return alt
				}
			}
			res.Reason = join("assumed an ID number: positions 7–14 read as a birth date", res.Reason)
		} else {
			res = checkUSCCCode(code, legacy)
			res.Reason = join("assumed a USCC: positions 7–14 are not a birth date", res.Reason)
		}
		res.Assumed = true
		return res
	case len(code) == 18:
		return checkUSCCCode(code, legacy)
	case len(code) == 15 && isDigits(code):
		return checkIDCode(code, now)
	case looksNumeric(code):
		res = checkIDCode(code, now)
		res.Reason = join("assumed an ID number from the digits", res.Reason)
	default:
		res = checkUSCCCode(code, legacy)
		res.Reason = join("assumed a USCC from the letters", res.Reason)
	}
	res.Assumed = true
	return res
}

func checkUSCCCode(code string, legacy map[string]bool) CodeResult {
	res := CodeResult{Code: code, Kind: CodeKindUSCC, Status: StatusValid}
	rej, checksumOnly := checkUSCC(code)
	switch {
	case !failed(rej):
	case checksumOnly && legacy[code]:
		res.Status = StatusLegacy
		res.Reason = "early pilot code: " + rej.Message + "; it is on the legacy allowlist, so records carrying it are accepted with a warning"
	case checksumOnly:
		res.Status = StatusLegacy
		res.Reason = "fails only the GB 32100 check: " + rej.Message + "; if it is a genuine early pilot code, add it to the legacy allowlist (records carrying it are rejected until then)"
	default:
		res.Status = StatusInvalid
		res.Reason = rej.Message
	}
	return res
}

func checkIDCode(code string, now time.Time) CodeResult {
	res := CodeResult{Code: code, Kind: CodeKindID, Status: StatusValid}
	norm, rej := normalizeID(code, now)
	switch {
	case failed(rej):
		res.Status = StatusInvalid
		res.Reason = rej.Message
	case len(code) == 15:
		res.Reason = "15-digit legacy number; its 18-character form is " + norm
	case norm != code:
		res.Reason = "normal form is " + norm + " (upper-case X)"
	}
	return res
}

// plausibleBirthDate reports whether YYYYMMDD is a real date from minBirthYear to now.
func plausibleBirthDate(s string, now time.Time) bool {
	if len(s) != 8 || !isDigits(s) {
		return false
	}
	y, m, d := atoi(s[:4]), atoi(s[4:6]), atoi(s[6:])
	return realDate(y, m, d) && !failed(checkBirth(y, m, d, 18, now))
}

func looksNumeric(s string) bool {
	s = strings.TrimRight(s, "Xx")
	return s != "" && isDigits(s)
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
