// Package boltstore is the embedded profile store: matching.Store,
// matching.StateStore and matching.Pinger in one bbolt file (Config.Dir/verihub.db)
// for a hub running on one machine. The file is locked: one process at a time.
//
// Records reach the store already protected: ID numbers were sealed and subjects
// pseudonymised by contracts.Protector at the ingest edge. The store keeps the bytes
// it is given and adds no protection of its own.
//
// Layout (bucket: key → value):
//
//	profiles: subject 0x00 type 0x00 id → version (20 bytes, ordered bytewise), flags,
//	          as_of zone offset, data
//	counts:   "enterprise" | "person" → number of subjects (8 bytes)
//	state:    key → expiry (8 bytes, Unix ns, 0 = none), value
//
// A subject's records are adjacent, so Profile is one prefix scan and Scan streams
// subject by subject; the version sits before the data so that Apply compares
// versions without decoding anything. Apply runs one read-write transaction per call
// (bbolt has a single writer, so calls are serialised and per-subject atomicity
// follows) and returns once it is committed and fsynced: bbolt syncs the data pages,
// then the meta page, so there are two fdatasync calls per Apply, whatever its size.
// Expired state entries are invisible at once, replaced by later writes, and deleted
// by Sweep, which Run calls periodically.
//
// bbolt was chosen over pebble by measurement: see README.md beside this file.
package boltstore
