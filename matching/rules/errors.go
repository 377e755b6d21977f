package rules

import (
	"fmt"

	"github.com/verihub/verihub/contracts"
)

// Stable error codes, for problem+json at the API boundary.
const (
	CodeUnknownProgram = "unknown_program"  // → 404
	CodeInvalidParams  = "invalid_params"   // → 400
	CodeLimit          = "evaluation_limit" // → 422
)

// UnknownProgramError is returned for a program id no loaded pack has. It matches
// contracts.ErrNotFound with errors.Is.
type UnknownProgramError struct {
	Program string
}

func (e *UnknownProgramError) Error() string {
	return fmt.Sprintf("unknown program %q", e.Program)
}

// Code returns CodeUnknownProgram.
func (e *UnknownProgramError) Code() string { return CodeUnknownProgram }

// Is reports whether target is contracts.ErrNotFound.
func (e *UnknownProgramError) Is(target error) bool { return target == contracts.ErrNotFound }

// ParamError is returned for request params that are missing, unknown, of the wrong
// type or outside their allowed values. Field names the offending param ("subject"
// when the profile is of the wrong kind for the program).
type ParamError struct {
	Program string
	Field   string
	Reason  string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("invalid params for program %q: %s: %s", e.Program, e.Field, e.Reason)
}

// Code returns CodeInvalidParams.
func (e *ParamError) Code() string { return CodeInvalidParams }

// LimitError is returned when an evaluation exceeds CostLimit: the subject's
// records are too many for the pack to evaluate within the limit (or a pack
// expression is pathological). Nothing is signed for it.
type LimitError struct {
	Program string
	Where   string // "check enrolled_active", "fact size", …
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("evaluating %s of %s: exceeds the cost limit of %d", e.Where, e.Program, CostLimit)
}

// Code returns CodeLimit.
func (e *LimitError) Code() string { return CodeLimit }
