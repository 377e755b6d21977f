// Package e2e holds the hub's end-to-end reliability tests. They run the real hub
// binary (built once by hubtest) as separate processes: a crash test that SIGKILLs
// the hub mid-load and checks every record is in effect exactly once and that a
// rebuild yields byte-identical profiles; readiness against Redis and Kafka going
// away and coming back; the pull connectors against faulty simulators on a real
// Kafka; and scale-out across several processes sharing one consumer group.
//
// The tests are skipped under -short. Those needing real services read
// VERIHUB_TEST_REDIS_ADDR and VERIHUB_TEST_KAFKA_BROKERS and skip when unset.
package e2e
