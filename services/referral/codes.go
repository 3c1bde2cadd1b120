package referral

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// Coded values are stored as the enum value's name without its prefix (enumcode): a status
// as "SENT", a category as "HEALTH".

func statusCode(s referralv1.ReferralStatus) string { return enumcode.Code(s) }

func statusOf(c string) referralv1.ReferralStatus {
	return enumcode.Value[referralv1.ReferralStatus](c)
}

func categoryCode(c referralv1.ServiceCategory) string {
	return enumcode.Code(c)
}

func categoryOf(c string) referralv1.ServiceCategory {
	return enumcode.Value[referralv1.ServiceCategory](c)
}

func partnerCategoryCode(c commonv1.PartnerCategory) string {
	return enumcode.Code(c)
}

func partnerCategoryOf(c string) commonv1.PartnerCategory {
	return enumcode.Value[commonv1.PartnerCategory](c)
}

// optional returns a coded enum value for a nullable column: nil for the zero value.
func optional[T enumcode.Enum](e T) *string {
	if e == 0 {
		return nil
	}
	c := enumcode.Code(e)
	return &c
}

func optionalNumber[T enumcode.Enum](c *string) T {
	if c == nil {
		return 0
	}
	return enumcode.Value[T](*c)
}
