// Package matching is the core of the hub: it joins agency records into one profile
// per subject (enterprise by USCC, person by ID-number pseudonym), applies record
// versions idempotently, and defines the Store contract that the embedded store and
// redisstore implement. Rule packs (rules/) and screening read profiles from a Store.
package matching
