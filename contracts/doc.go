// Package contracts defines what agencies and the hub exchange: the record envelope,
// the record types of each agency, their JSON Schemas, the validator every record
// passes before it reaches the bus, the identifier checks (unified social credit
// codes, resident ID numbers, certificate, occupation and region codes), the reject
// codes, the sentinel errors, and the Protector that keeps ID numbers out of
// everything past the ingest edge. It imports no infrastructure library.
//
// # Schemas and the validator
//
// schemas/<type>.v1.json (JSON Schema draft 2020-12, served by Schema and SchemaFS)
// is the single source of a contract: the documentation is generated from it and the
// Validator is compiled from it. The validator reads the schemas once into a flat
// form and walks records with a strict JSON reader, so it does not interpret JSON
// Schema per record; it refuses to compile a schema using a keyword it does not
// implement, and a test runs a general 2020-12 validator over the same files and the
// same corpus of good and bad records. The checks JSON Schema cannot state are the
// validator's own and are named in the schemas' descriptions: the identifier check
// characters (behind the custom formats uscc, id-number, cert-no, occupation-code,
// region-code, date and month), the id equal to the natural key built from data
// (id_mismatch), and exactly one subject (subject). Each reject carries a stable code
// (codes.go), the JSON path of the field, and a message a data clerk can act on;
// messages never contain an ID number.
//
// # Versioning
//
// A record type's name carries its major version implicitly as v1: the schema file
// is <type>.v1.json and the type string (si.employer) is the v1 contract. Contracts
// are strict — unknown fields are rejected — so a sender cannot add anything a
// receiver has not agreed to, and a change that lets any previously rejected record
// through, or rejects any previously accepted one, is visible to every agency.
//
// Within v1 only these changes are allowed, because every record valid before stays
// valid and means the same:
//   - descriptions, titles and documentation;
//   - a new reject code, or a clearer message, for a record that was already rejected;
//   - fixing a check that contradicts SPEC §1 (announced to agencies, since records
//     that were wrongly accepted are then refused);
//   - additions to the legacy USCC allowlist, which is configuration, not contract.
//
// Everything else needs a new version: adding a field (even an optional one, since
// strict v1 receivers reject it), removing or renaming a field, making an optional
// field required or the reverse, narrowing or widening an enumeration, changing a
// type, format, unit or the natural key. A new version is a new schema file
// <type>.v2.json and a new type string ("si.employer.v2"), published alongside v1; the
// hub accepts both for as long as any agency sends v1, and consumers handle each type
// string explicitly. Reject codes are never renamed or reused for another meaning.
package contracts
