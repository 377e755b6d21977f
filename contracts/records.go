package contracts

// Agency names, used in record type prefixes, feed URLs, topics, credentials and metrics.
const (
	AgencySocialInsurance = "si"
	AgencyTax             = "tax"
	AgencyCertification   = "cert"
	AgencyEnvironment     = "env"
	AgencyCredit          = "credit"
	AgencyGrant           = "grant"
)

// Agencies lists every agency name in a stable order.
var Agencies = []string{AgencySocialInsurance, AgencyTax, AgencyCertification, AgencyEnvironment, AgencyCredit, AgencyGrant}

// Record types, version 1. The JSON Schema of each is schemas/<type>.v1.json.
const (
	TypeEmployer      = "si.employer"
	TypeEmployerMonth = "si.employer_month"
	TypePerson        = "si.person"
	TypeTaxpayer      = "tax.taxpayer"
	TypeCertificate   = "cert.certificate"
	TypePenalty       = "env.penalty"
	TypeRating        = "env.rating"
	TypeListing       = "credit.listing"
	TypeAward         = "grant.award"
)

// RecordTypes lists every record type in a stable order.
var RecordTypes = []string{TypeEmployer, TypeEmployerMonth, TypePerson, TypeTaxpayer, TypeCertificate, TypePenalty, TypeRating, TypeListing, TypeAward}

// AgencyOf returns the agency prefix of a record type ("si" for "si.employer").
func AgencyOf(recordType string) string {
	for i := 0; i < len(recordType); i++ {
		if recordType[i] == '.' {
			return recordType[:i]
		}
	}
	return ""
}

// Dates are "YYYY-MM-DD" strings and months "YYYY-MM" strings, as on the wire, so
// that a record re-encodes to the same bytes. Money is integer fen in *_fen fields.

// Employer is si.employer (社保: 参保单位); id = uscc.
type Employer struct {
	USCC         string `json:"uscc"`
	Name         string `json:"name"`
	RegionCode   string `json:"region_code"`
	Status       string `json:"status"` // active | suspended | closed
	EnrolledOn   string `json:"enrolled_on"`
	Size         string `json:"size"` // micro | small | medium | large
	IndustryCode string `json:"industry_code"`
}

// EmployerMonth is si.employer_month; id = uscc:YYYY-MM.
type EmployerMonth struct {
	USCC              string `json:"uscc"`
	Month             string `json:"month"`
	InsuredCount      int64  `json:"insured_count"`
	UIDueFen          int64  `json:"ui_due_fen"`
	UIPaidFen         int64  `json:"ui_paid_fen"`
	ArrearsFen        int64  `json:"arrears_fen"`
	DeferralAgreement bool   `json:"deferral_agreement"`
	NewUIClaimants    int64  `json:"new_ui_claimants"`
	RetiredOrDeceased int64  `json:"retired_or_deceased"`
}

// Person is si.person (参保职工); id = id_number.
type Person struct {
	IDNumber     string `json:"id_number"`
	Name         string `json:"name"`
	EmployerUSCC string `json:"employer_uscc"` // may be empty
	UIMonths     int64  `json:"ui_months"`
	Status       string `json:"status"`   // contributing | suspended | receiving_benefits | retired
	Category     string `json:"category"` // enterprise | public_institution | flexible
}

// Taxpayer is tax.taxpayer (税务); id = uscc.
type Taxpayer struct {
	USCC          string `json:"uscc"`
	Name          string `json:"name"`
	Status        string `json:"status"` // normal | abnormal | deregistered
	AbnormalSince string `json:"abnormal_since"`
	CreditGrade   string `json:"credit_grade"` // A | B | M | C | D
	CreditYear    int64  `json:"credit_year"`
}

// Certificate is cert.certificate (技能人才评价); id = cert_no.
type Certificate struct {
	CertNo         string `json:"cert_no"`
	IDNumber       string `json:"id_number"`
	Name           string `json:"name"`
	OccupationCode string `json:"occupation_code"` // X-XX-XX-XX
	OccupationName string `json:"occupation_name"`
	Level          int64  `json:"level"` // 5 初级 … 1 高级技师
	Kind           string `json:"kind"`  // qualification | skill_level
	IssuedOn       string `json:"issued_on"`
	Issuer         string `json:"issuer"`
	Status         string `json:"status"` // valid | revoked
}

// Penalty is env.penalty (生态环境行政处罚); id = decision_no.
type Penalty struct {
	USCC       string `json:"uscc"`
	DecisionNo string `json:"decision_no"`
	DecidedOn  string `json:"decided_on"`
	Violation  string `json:"violation"`
	FineFen    int64  `json:"fine_fen"`
	Severity   string `json:"severity"` // general | major
	Status     string `json:"status"`   // in_force | revoked
}

// Rating is env.rating (环保信用评价); id = uscc:YYYY.
type Rating struct {
	USCC   string `json:"uscc"`
	Year   int64  `json:"year"`
	Rating string `json:"rating"` // green | blue | yellow | red | black
}

// Listing is credit.listing (信用中国 and designations); id = listing_id.
// Exactly one of SubjectUSCC and SubjectIDNumber is set.
type Listing struct {
	ListingID       string `json:"listing_id"`
	SubjectUSCC     string `json:"subject_uscc,omitempty"`
	SubjectIDNumber string `json:"subject_id_number,omitempty"`
	ListType        string `json:"list_type"`
	Authority       string `json:"authority"`
	ListedOn        string `json:"listed_on"`
	RemovedOn       string `json:"removed_on"` // empty while listed
}

// Award is grant.award, pushed back by subsidy portals; id = grant_id.
// Exactly one of SubjectUSCC and SubjectIDNumber is set.
type Award struct {
	GrantID         string `json:"grant_id"`
	Program         string `json:"program"`
	SubjectUSCC     string `json:"subject_uscc,omitempty"`
	SubjectIDNumber string `json:"subject_id_number,omitempty"`
	Year            int64  `json:"year"`
	RegionCode      string `json:"region_code"`
	AmountFen       int64  `json:"amount_fen"`
	GrantedOn       string `json:"granted_on"`
	OccupationCode  string `json:"occupation_code,omitempty"` // skill subsidy
	Level           int64  `json:"level,omitempty"`           // skill subsidy
	Status          string `json:"status"`                    // granted | revoked
}

// List types of credit.listing.
const (
	ListSeriousDishonesty = "serious_dishonesty"
	ListJudgmentDefaulter = "judgment_defaulter"
	ListMajorTaxViolation = "major_tax_violation"
	ListWageArrears       = "wage_arrears"
	ListAbnormalOperation = "abnormal_operation"
	ListBankruptcy        = "bankruptcy"
	ListZombie            = "zombie_enterprise"
	ListDeCapacity        = "de_capacity_enterprise"
	ListKeySupported      = "key_supported_enterprise"
)
