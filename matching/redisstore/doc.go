// Package redisstore is the profile store on Redis (standalone, Sentinel or Cluster,
// through go-redis's UniversalClient): matching.Store, matching.StateStore and
// matching.Pinger for hubs that scale out.
//
// Records reach the store already protected: ID numbers were sealed and subjects
// pseudonymised by contracts.Protector at the ingest edge. The store keeps the bytes
// it is given and adds no protection of its own.
//
// # Keys
//
//	<prefix>:p:{<subject>}           hash: "<type>\x00<id>" → version (40 hex digits,
//	                                 ordered as text), flags, zone offset, data
//	<prefix>:ix:<kind>:{<kind>/<n>}  set of the subjects of a kind whose hash sits in
//	                                 bucket n (FNV-1a of the subject mod IndexBuckets)
//	<prefix>:meta                    hash: the index bucket count, fixed at first use
//	<prefix>:s:<key>                 state value, with its TTL as the key's PX expiry
//
// The braces are Redis Cluster hash tags: all of a subject's records live in one slot,
// so one Lua script can check and write them; the index is spread over IndexBuckets
// sets in different slots so that no single node holds it all. (The alternative, a
// SCAN over every master for "<prefix>:p:*", needs no index but makes Count a full
// keyspace walk; counts are read on every readiness and dashboard refresh, so the
// index wins.)
//
// # Apply
//
// Apply groups the changes by subject and sends, in one pipeline (one round trip per
// node), one EVALSHA per subject — the script compares each change's version with the
// stored one and writes the newer ones, in call order — and one SADD of the subject
// to its index set. A script missing from the server's cache (NOSCRIPT, after a
// restart or failover) is sent again with EVAL in a second round trip; only those
// commands are resent, so the outcome counts stay exact. The SADD is sent on every
// Apply, after the script: a subject is indexed once an Apply that wrote it has
// returned, and a retried Apply repairs an index entry a failed one left out.
// go-redis retries commands whose connection failed; a script that ran before its
// reply was lost then runs again and counts its changes as duplicates, which leaves
// the profiles right and the counts slightly off.
//
// # Durability
//
// Redis acknowledges a write once it is in memory, before any fsync, unless the
// server runs with "appendonly yes" and "appendfsync always": only then does "Apply
// returns only once durable" hold on one server (deploy/dev/redis.sh configures
// that). Production must configure the same on every master. Replication is
// asynchronous: with Sentinel or Cluster failover, a promoted replica can miss
// writes its master acknowledged. This store issues no WAIT; a deployment that
// cannot accept that window must rebuild the store from the compacted topics after
// a failover (hub rebuild), which is always possible because the store is a view of
// the topics.
//
// Errors: redis.Nil becomes contracts.ErrNotFound; connection failures, pool
// timeouts, a closed client and LOADING/MASTERDOWN/CLUSTERDOWN/TRYAGAIN/READONLY
// replies wrap contracts.ErrUnavailable.
package redisstore
