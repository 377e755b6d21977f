// Package bus is the hub's Kafka layer: topic layout, a synchronous producer, a
// consumer-group runner that commits only after its handler succeeds, full reads for
// rebuilds, dead letters and consumer lag. All traffic goes through
// github.com/segmentio/kafka-go, against a real Kafka cluster or the embedded broker
// (package embedded), so one code path runs in every deployment shape.
//
// Topics (prefix "verihub" by default):
//
//	verihub.records.<agency>.v1   one per agency; cleanup.policy=compact
//	verihub.deadletters.v1        rejected records; cleanup.policy=delete
//	verihub.audit.v1              audit trail; cleanup.policy=delete
//
// Records topics are compacted, so a message key must name one record: the bus uses
// "<subject>|<type>/<id>" (see RecordKey). Partitioning hashes only the subject part
// (SubjectBalancer), so all records of one subject land, in order, on one partition,
// while compaction still keeps the latest version of every record.
//
// Delivery is at least once: Publish returns only when every message is acknowledged
// by all in-sync replicas, and Consume commits a batch only after its handler returned
// nil, so handlers must be idempotent.
package bus
