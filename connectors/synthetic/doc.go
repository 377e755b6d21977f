// Package synthetic generates deterministic agency data for verihub and, beside it,
// the ground truth the hub must reproduce.
//
// Generate writes one NDJSON file per agency (si, tax, cert, env, credit, grant) in the
// record envelope of package contracts, a file of deliberately bad records with the
// reject each must draw, and expected.ndjson: the decision and amount for every
// subject under every shipped rule pack, computed by an oracle in this package that
// follows matching/rules/PACKS.md on its own and never imports the matching code.
//
// The same seed and counts always produce the same bytes: every subject draws from its
// own PCG stream seeded from (seed, subject index), and nothing depends on the clock or
// on map iteration order. Generation streams subject by subject, so memory stays small
// whatever the counts.
package synthetic
