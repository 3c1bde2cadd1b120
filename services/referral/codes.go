package referral

import (
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// The enum prefixes dropped from stored codes: a status is stored as "SENT", a category as
// "HEALTH".
const (
	statusPrefix          = "REFERRAL_STATUS_"
	directionPrefix       = "DIRECTION_"
	serviceCategoryPrefix = "SERVICE_CATEGORY_"
	partnerCategoryPrefix = "PARTNER_CATEGORY_"
	reasonPrefix          = "REFERRAL_REASON_"
	overridePrefix        = "OVERRIDE_REASON_"
	declinePrefix         = "DECLINE_REASON_"
	outcomePrefix         = "SERVICE_OUTCOME_"
	revokePrefix          = "REVOKE_REASON_"
	connectionPrefix      = "CONNECTION_KIND_"
	fieldPrefix           = "SHARED_FIELD_"
)

func statusCode(s referralv1.ReferralStatus) string { return enumcode.Code(s, statusPrefix) }

func statusOf(c string) referralv1.ReferralStatus {
	return enumcode.Value[referralv1.ReferralStatus](referralv1.ReferralStatus_value, statusPrefix, c)
}

func categoryCode(c referralv1.ServiceCategory) string {
	return enumcode.Code(c, serviceCategoryPrefix)
}

func categoryOf(c string) referralv1.ServiceCategory {
	return enumcode.Value[referralv1.ServiceCategory](referralv1.ServiceCategory_value, serviceCategoryPrefix, c)
}

func partnerCategoryCode(c commonv1.PartnerCategory) string {
	return enumcode.Code(c, partnerCategoryPrefix)
}

func partnerCategoryOf(c string) commonv1.PartnerCategory {
	return enumcode.Value[commonv1.PartnerCategory](commonv1.PartnerCategory_value, partnerCategoryPrefix, c)
}

// optional returns a coded enum value for a nullable column: nil for the zero value.
func optional[T interface {
	~int32
	String() string
}](e T, prefix string) *string {
	if e == 0 {
		return nil
	}
	c := enumcode.Code(e, prefix)
	return &c
}

func optionalNumber[T ~int32](values map[string]int32, prefix string, c *string) T {
	if c == nil {
		return 0
	}
	return enumcode.Value[T](values, prefix, *c)
}
