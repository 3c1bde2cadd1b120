package ctdc

// The CTDC layout and the mapping from Passage's codes to it, in one place.
//
// Source: the CTDC Global K-anonymised Dataset (release of 15 July 2021) and its data dictionary
// (version 2021-08-25), which follow the CTDC Data Codebook (version 6, November 2017),
// https://www.ctdatacollaborative.org/global-dataset. Column names, their order and the value
// labels ("0--8", "48+", "Adult", "Minor", 1 / 0 flags, ISO 3166-1 alpha-2 countries) are the
// dataset's. An empty value means unknown, not recorded or withheld, as in the dataset.
//
// Passage's codes are the protobuf enum value names without their type prefix (see
// internal/enumcode): common.v1.Sex, common.v1.AgeBand, trafficking.v1.ExploitationType and
// trafficking.v1.MeansOfControl. TestCodebookCoversEveryEnumValue keeps this table complete.

// Columns is the header of the released CSV: the CTDC columns Passage can fill, in the CTDC
// order, then two columns of Passage's own (the IOM region of citizenship and of exploitation,
// which a released country always determines and which carry the region alone where the
// country was generalised away).
var Columns = [numColumns]string{
	colYear:        "yearOfRegistration",
	colDatasource:  "Datasource",
	colGender:      "gender",
	colAgeBroad:    "ageBroad",
	colMajority:    "majorityStatus",
	colCitizenship: "citizenship",

	colControl + 0:         "meansOfControlDebtBondage",
	colControl + 1:         "meansOfControlTakesEarnings",
	colControl + 2:         "meansOfControlRestrictsFinancialAccess",
	colControl + 3:         "meansOfControlThreats",
	colControl + 4:         "meansOfControlPsychologicalAbuse",
	colControl + 5:         "meansOfControlPhysicalAbuse",
	colControl + 6:         "meansOfControlSexualAbuse",
	colControl + 7:         "meansOfControlFalsePromises",
	colControl + 8:         "meansOfControlPsychoactiveSubstances",
	colControl + 9:         "meansOfControlRestrictsMovement",
	colControl + 10:        "meansOfControlRestrictsMedicalCare",
	colControl + 11:        "meansOfControlExcessiveWorkingHours",
	colControl + 12:        "meansOfControlUsesChildren",
	colControl + 13:        "meansOfControlThreatOfLawEnforcement",
	colControl + 14:        "meansOfControlWithholdsNecessities",
	colControl + 15:        "meansOfControlWithholdsDocuments",
	colControl + 16:        "meansOfControlOther",
	colControlNotSpecified: "meansOfControlNotSpecified",

	colExploit + exForcedLabour:        "isForcedLabour",
	colExploit + exSexualExploit:       "isSexualExploit",
	colExploit + exOtherExploit:        "isOtherExploit",
	colExploit + exSexAndLabour:        "isSexAndLabour",
	colExploit + exForcedMarriage:      "isForcedMarriage",
	colExploit + exForcedMilitary:      "isForcedMilitary",
	colExploit + exOrganRemoval:        "isOrganRemoval",
	colExploit + exSlaveryAndPractices: "isSlaveryAndPractices",

	colCountryOfExploitation: "CountryOfExploitation",
	colCitizenshipRegion:     "citizenshipRegion",
	colExploitationRegion:    "CountryOfExploitationRegion",
}

const (
	colYear = iota
	colDatasource
	colGender
	colAgeBroad
	colMajority
	colCitizenship
	colControl               // the 17 meansOfControl columns, in controlCodes order
	colControlNotSpecified   = colControl + numControl
	colExploit               = colControlNotSpecified + 1 // the 8 isXxx columns
	colCountryOfExploitation = colExploit + numExploit
	colCitizenshipRegion     = colCountryOfExploitation + 1
	colExploitationRegion    = colCitizenshipRegion + 1
	numColumns               = colExploitationRegion + 1
)

// datasource is the CTDC Datasource value for every Passage record: they come from case
// management, not from a hotline.
const datasource = "Case Management"

// genders maps common.v1.Sex codes to the CTDC gender labels. OTHER goes to the CTDC's third
// category, the nearest it has; UNKNOWN is an empty value.
var genders = map[string]string{
	"FEMALE":  "Female",
	"MALE":    "Male",
	"OTHER":   "Transgender/NonConforming",
	"UNKNOWN": "",
}

// ageBands maps common.v1.AgeBand codes to the CTDC ageBroad labels and majorityStatus. The
// bands are the CTDC's own (see internal/ageband), so the mapping is exact.
var ageBands = map[string]struct{ broad, majority string }{
	"0_8":     {"0--8", "Minor"},
	"9_17":    {"9--17", "Minor"},
	"18_20":   {"18--20", "Adult"},
	"21_23":   {"21--23", "Adult"},
	"24_26":   {"24--26", "Adult"},
	"27_29":   {"27--29", "Adult"},
	"30_38":   {"30--38", "Adult"},
	"39_47":   {"39--47", "Adult"},
	"48_PLUS": {"48+", "Adult"},
	"UNKNOWN": {"", ""},
}

// The CTDC exploitation flags, as offsets from colExploit.
const (
	exForcedLabour = iota
	exSexualExploit
	exOtherExploit
	exSexAndLabour
	exForcedMarriage
	exForcedMilitary
	exOrganRemoval
	exSlaveryAndPractices
	numExploit
)

// exploitationFlags maps trafficking.v1.ExploitationType codes to the CTDC flag they set.
// Forced criminal activity and forced begging are types of forced labour in the CTDC codebook
// (typeOfLabourIllicitActivities, typeOfLabourBegging); those sub-type columns are not
// released. isSexAndLabour is set when both sexual exploitation and forced labour are.
// isForcedMilitary has no Passage code and stays empty.
var exploitationFlags = map[string]int{
	"SEXUAL_EXPLOITATION":           exSexualExploit,
	"FORCED_LABOUR":                 exForcedLabour,
	"FORCED_MARRIAGE":               exForcedMarriage,
	"SLAVERY_AND_SIMILAR_PRACTICES": exSlaveryAndPractices,
	"FORCED_CRIMINAL_ACTIVITY":      exForcedLabour,
	"FORCED_BEGGING":                exForcedLabour,
	"REMOVAL_OF_ORGANS":             exOrganRemoval,
	"OTHER":                         exOtherExploit,
}

// coarseExploit is what each flag becomes when exploitation is generalised one level: the
// three broad CTDC classes (sexual, labour, other) are kept and the rarer types fold into
// isOtherExploit, as the CTDC's own catch-all.
var coarseExploit = [numExploit]int{
	exForcedLabour:        exForcedLabour,
	exSexualExploit:       exSexualExploit,
	exOtherExploit:        exOtherExploit,
	exSexAndLabour:        exSexAndLabour,
	exForcedMarriage:      exOtherExploit,
	exForcedMilitary:      exOtherExploit,
	exOrganRemoval:        exOtherExploit,
	exSlaveryAndPractices: exOtherExploit,
}

// releasedAtCoarse says which flags carry a value once exploitation is generalised.
var releasedAtCoarse = [numExploit]bool{
	exForcedLabour: true, exSexualExploit: true, exOtherExploit: true, exSexAndLabour: true,
}

// controlCodes are the trafficking.v1.MeansOfControl codes in the order of the CTDC
// meansOfControl columns; the two lists were made to match one for one.
var controlCodes = [...]string{
	"DEBT_BONDAGE",
	"TAKES_EARNINGS",
	"RESTRICTS_FINANCIAL_ACCESS",
	"THREATS",
	"PSYCHOLOGICAL_ABUSE",
	"PHYSICAL_ABUSE",
	"SEXUAL_ABUSE",
	"FALSE_PROMISES",
	"PSYCHOACTIVE_SUBSTANCES",
	"RESTRICTS_MOVEMENT",
	"RESTRICTS_MEDICAL_CARE",
	"EXCESSIVE_WORKING_HOURS",
	"USES_CHILDREN",
	"THREAT_OF_LAW_ENFORCEMENT",
	"WITHHOLDS_NECESSITIES",
	"WITHHOLDS_DOCUMENTS",
	"OTHER",
}

const numControl = len(controlCodes)

var controlBit = func() map[string]uint32 {
	m := make(map[string]uint32, numControl)
	for i, c := range controlCodes {
		m[c] = 1 << i
	}
	return m
}()
