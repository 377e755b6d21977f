package contracts

// Reject codes. They are part of the public contract: agencies and dashboards match on
// them, so a code is never renamed or reused for another meaning.
const (
	CodeInvalid        = "invalid"          // generic, only when nothing more precise applies
	CodeMalformedJSON  = "malformed_json"   // not a JSON object
	CodeTooLarge       = "record_too_large" // encoded record > MaxRecordBytes
	CodeUnknownType    = "unknown_type"     // type names no contract
	CodeUnknownField   = "unknown_field"    // a field the contract does not define
	CodeRequired       = "required"         // a required field is missing or empty
	CodeWrongType      = "wrong_type"       // e.g. a string where an integer belongs
	CodeEnum           = "enum"             // value outside the enumeration
	CodeDate           = "date_format"      // not a real YYYY-MM-DD date
	CodeMonth          = "month_format"     // not a real YYYY-MM month
	CodeTimestamp      = "timestamp_format" // as_of is not RFC 3339
	CodeNegativeMoney  = "negative_money"   // *_fen < 0
	CodeNegative       = "negative_count"   // a count < 0
	CodeOutOfRange     = "out_of_range"     // a number outside its allowed range
	CodePattern        = "pattern"          // a string that does not have the required shape
	CodeIDMismatch     = "id_mismatch"      // envelope id does not equal the natural key in data
	CodeSubject        = "subject"          // neither or both of subject_uscc / subject_id_number
	CodeUSCCLength     = "uscc_length"
	CodeUSCCCharset    = "uscc_charset"
	CodeUSCCOrgCode    = "uscc_org_checksum" // embedded GB 11714 organization code check failed
	CodeUSCCChecksum   = "uscc_checksum"     // GB 32100 check character wrong
	CodeLegacyChecksum = "legacy_checksum"   // warning: allowlisted pilot code failing the USCC check
	CodeIDLength       = "id_length"
	CodeIDCharset      = "id_charset"
	CodeIDAddress      = "id_address"
	CodeIDBirthDate    = "id_birth_date"
	CodeIDChecksum     = "id_checksum"
	CodeCertNo         = "cert_no_format"
	CodeOccupationCode = "occupation_code_format"
	CodeRegionCode     = "region_code_format"
	CodeTooLong        = "too_long"        // a string longer than its maxLength
	CodeDuplicateField = "duplicate_field" // the same field twice in one object
)
