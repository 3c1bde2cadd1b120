package hxl

import "strings"

// The mapping from Passage's analytics dimensions and measures to HXL, in one place.
//
// Sources: the HXL hashtag dictionary (hxlstandard.org/standard/dictionary, HXL 1.1) for the
// hashtags and core attributes (#date+year, #country+code, #region+code / +name, #activity,
// #beneficiary, #service, #targeted, #reached, #affected, #indicator+num, #status, #org+type,
// #meta; +ind, +f, +m, +dest, +returnees); HDX HAPI's reading of HXL for the sex and age attributes it understands
// (+f, +m, +o other, +u unknown; +age0_4 style ranges, +age80plus for an open-ended one).
// Attributes not in the dictionary (+host, +nationality, +programme, +registered,
// +trafficking, +hasm, +approved, +rejected, +vulnerability, +exploitation, +assistance,
// +referral(s), +partner, +direction, +suppressed) are allowed by the standard and say what the column holds.
//
// Dimensions and measures are named by their passage.analytics.v1 enum value names, with or
// without the DIMENSION_ / MEASURE_ prefix ("HOST_REGION" or "DIMENSION_HOST_REGION").

// dimension is how one analytics dimension is written: as a column of its own (tag), or, for
// sex and age band, as an attribute of the count columns (attrs, keyed by the stored code).
type dimension struct {
	header string
	tag    string
	// nameTag is the tag of a column holding the value's name, where the value is a code that
	// has one (a country, a region).
	nameTag string
	// attrs, for a dimension written as count-column attributes, maps each code to its
	// attribute and its words in the header, in the order columns are laid out.
	attrs []attribute
}

type attribute struct{ code, attr, label string }

var dimensions = map[string]dimension{
	"YEAR":              {header: "Year", tag: "#date+year"},
	"PROGRAMME":         {header: "Programme", tag: "#activity+programme+code"},
	"NATIONALITY":       {header: "Nationality", tag: "#country+code+nationality", nameTag: "#country+name+nationality"},
	"HOST_COUNTRY":      {header: "Host country", tag: "#country+code+host", nameTag: "#country+name+host"},
	"HOST_REGION":       {header: "Host region", tag: "#region+code+host", nameTag: "#region+name+host"},
	"RETURN_COUNTRY":    {header: "Return country", tag: "#country+code+dest", nameTag: "#country+name+dest"},
	"RETURN_REGION":     {header: "Return region", tag: "#region+code+dest", nameTag: "#region+name+dest"},
	"VULNERABILITY":     {header: "Vulnerability", tag: "#beneficiary+vulnerability+code"},
	"EXPLOITATION_TYPE": {header: "Type of exploitation", tag: "#beneficiary+exploitation+code"},
	"ASSISTANCE_TYPE":   {header: "Type of assistance", tag: "#service+assistance+code"},
	// A referral's stage, the kind of organisation on the other side (#org+type, as 3W data
	// sets code an organisation's type), and which way it went.
	"REFERRAL_STATUS":    {header: "Referral status", tag: "#status+referral+code"},
	"PARTNER_TYPE":       {header: "Partner type", tag: "#org+type+partner+code"},
	"REFERRAL_DIRECTION": {header: "Referral direction", tag: "#meta+referral+direction+code"},
	"SEX": {header: "Sex", attrs: []attribute{
		{"FEMALE", "f", "female"},
		{"MALE", "m", "male"},
		{"OTHER", "o", "other"},
		{"UNKNOWN", "u", "sex unknown"},
	}},
	"AGE_BAND": {header: "Age band", attrs: []attribute{
		{"0_8", "age0_8", "aged 0-8"},
		{"9_17", "age9_17", "aged 9-17"},
		{"18_20", "age18_20", "aged 18-20"},
		{"21_23", "age21_23", "aged 21-23"},
		{"24_26", "age24_26", "aged 24-26"},
		{"27_29", "age27_29", "aged 27-29"},
		{"30_38", "age30_38", "aged 30-38"},
		{"39_47", "age39_47", "aged 39-47"},
		{"48_PLUS", "age48plus", "aged 48+"},
		{"UNKNOWN", "ageunknown", "age unknown"},
	}},
}

type measure struct{ header, tag string }

// measures: people reached by the programmes are #reached, people registered for assistance
// #targeted, identified victims #affected; requests and referrals, which are not people,
// #indicator+num.
var measures = map[string]measure{
	"CASES_REGISTERED":       {"Cases registered", "#targeted+ind+registered"},
	"PERSONS_RETURNED":       {"Persons returned", "#reached+ind+returnees"},
	"PERSONS_ASSISTED":       {"Persons assisted", "#reached+ind"},
	"VICTIMS_IDENTIFIED":     {"Victims of trafficking identified", "#affected+ind+trafficking"},
	"HASM_REQUESTS_APPROVED": {"HASM requests approved", "#indicator+num+hasm+approved"},
	"HASM_REQUESTS_REJECTED": {"HASM requests rejected", "#indicator+num+hasm+rejected"},
	"REFERRALS":              {"Referrals", "#indicator+num+referrals"},
}

// suppressedTag is the tag of the column beside each count that says whether the count was
// suppressed; it carries the count column's sex and age attributes.
const suppressedTag = "#meta+suppressed"

func lookupDimension(name string) (dimension, bool) {
	d, ok := dimensions[strings.TrimPrefix(name, "DIMENSION_")]
	return d, ok
}

func lookupMeasure(name string) (measure, bool) {
	m, ok := measures[strings.TrimPrefix(name, "MEASURE_")]
	return m, ok
}

// TagFor is the hashtag of the column that holds dimension's values, or "" for a dimension
// written as count-column attributes (SEX, AGE_BAND; see AttributeFor) or not known.
func TagFor(dimension string) string {
	d, _ := lookupDimension(dimension)
	return d.tag
}

// NameTagFor is the hashtag of a column holding the names of dimension's values (a country's
// or a region's), or "" when its values have no name column.
func NameTagFor(dimension string) string {
	d, _ := lookupDimension(dimension)
	return d.nameTag
}

// AttributeFor is the HXL attribute (without "+") that stands for code of a dimension
// written as count-column attributes: AttributeFor("SEX", "FEMALE") is "f".
func AttributeFor(dimension, code string) (string, bool) {
	d, _ := lookupDimension(dimension)
	for _, a := range d.attrs {
		if a.code == code {
			return a.attr, true
		}
	}
	return "", false
}

// MeasureTag is the hashtag of measure's counts, or "" for a measure not known.
func MeasureTag(measure string) string {
	m, _ := lookupMeasure(measure)
	return m.tag
}
