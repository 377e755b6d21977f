// Package rules evaluates subsidy program rule packs over subject profiles.
//
// A rule pack is a YAML file (packs/*.yaml, embedded in the binary) that names a
// program, its legal basis, the request parameters a caller gives, the pack
// parameters (with per-region and per-data-year values, overridable by
// configuration), named intermediate values, checks and an amount formula. Every
// condition, detail text, evidence list and formula is a CEL expression over a view
// of the profile; PACKS.md is the normative description of the shipped packs.
//
// Promises:
//   - Load compiles every expression once and also evaluates every pack against a
//     built-in sample profile and an empty one, so a pack that does not compile or
//     that reads a field no record has is a start error naming the pack, the check
//     and the expression.
//   - Evaluate is safe for concurrent use, does not modify the profile, decodes each
//     record it needs at most once per call and only the records the pack reads, and
//     runs under a CEL cost limit for the whole evaluation (a *LimitError beyond).
//   - Results are deterministic: the same profile, program and params always give
//     the same Result.
package rules
