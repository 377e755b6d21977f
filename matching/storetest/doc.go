// Package storetest is the conformance suite for matching.Store and
// matching.StateStore: Run checks every promise of the two contracts (ordering,
// tombstones, per-subject atomicity under concurrency, idempotency, member links,
// scans and counts, not-found, state TTLs and PutIfAbsent races, durability across
// reopen, and the delivery-order property) against one implementation. Every store
// runs it in its own tests.
//
// It also holds what those tests and benchmarks share: History and Deliver (random
// record histories and unreliable deliveries of them), Reference (the profiles
// Profile.Apply builds from in-order delivery), Workload (backfill-shaped changes for
// benchmarks) and Memory (an in-memory store for tests of code that reads profiles).
package storetest
