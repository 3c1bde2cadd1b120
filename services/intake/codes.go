package intake

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Coded attributes are stored as the enum value's name without its prefix ("AVRR",
// "REGISTERED"): readable in SQL and stable, since protobuf value names never change.

func programmeFromCode(c string) commonv1.Programme {
	return enumcode.Value[commonv1.Programme](c)
}

func statusFromCode(c string) intakev1.CaseStatus {
	return enumcode.Value[intakev1.CaseStatus](c)
}

func closureFromCode(c string) intakev1.ClosureReason {
	return enumcode.Value[intakev1.ClosureReason](c)
}

func sexFromCode(c string) commonv1.Sex {
	return enumcode.Value[commonv1.Sex](c)
}

func ageBandFromCode(c string) commonv1.AgeBand {
	return enumcode.Value[commonv1.AgeBand](c)
}

func purposeFromCode(c string) commonv1.ConsentPurpose {
	return enumcode.Value[commonv1.ConsentPurpose](c)
}

func vulnerabilityCodes(vs []commonv1.Vulnerability) []string {
	return enumcode.Codes(vs)
}

func vulnerabilitiesFromCodes(cs []string) []commonv1.Vulnerability {
	return enumcode.Values[commonv1.Vulnerability](cs)
}

// storedSex records an unspecified sex as unknown: the case record always says which.
func storedSex(s commonv1.Sex) commonv1.Sex {
	if s == commonv1.Sex_SEX_UNSPECIFIED {
		return commonv1.Sex_SEX_UNKNOWN
	}
	return s
}

func legalBasisFromCode(c string) commonv1.LegalBasis {
	return enumcode.Value[commonv1.LegalBasis](c)
}

// legalBasisCode stores an unspecified legal basis as consent, the default it means.
func legalBasisCode(b commonv1.LegalBasis) string {
	if b == commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED {
		b = commonv1.LegalBasis_LEGAL_BASIS_CONSENT
	}
	return enumcode.Code(b)
}

// categoryCode stores "no category" as the empty string, like "no partner".
func categoryCode(c commonv1.PartnerCategory) string {
	if c == commonv1.PartnerCategory_PARTNER_CATEGORY_UNSPECIFIED {
		return ""
	}
	return enumcode.Code(c)
}

func categoryFromCode(c string) commonv1.PartnerCategory {
	if c == "" {
		return commonv1.PartnerCategory_PARTNER_CATEGORY_UNSPECIFIED
	}
	return enumcode.Value[commonv1.PartnerCategory](c)
}
