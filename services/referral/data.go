package referral

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/vault"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// identityFields are the profile fields that come from the vault.
var identityFields = []referralv1.SharedField{
	referralv1.SharedField_SHARED_FIELD_NAME, referralv1.SharedField_SHARED_FIELD_DATE_OF_BIRTH,
	referralv1.SharedField_SHARED_FIELD_PHONE, referralv1.SharedField_SHARED_FIELD_ADDRESS,
	referralv1.SharedField_SHARED_FIELD_DOCUMENTS,
}

// GetReferralData gives the partner an outbound referral's data: the referral's profile
// version applied to the case, nothing more. Identity fields are decrypted only when the
// profile shares them, and only while the referral is live: the database's own policy on the
// vault says the same, so a revoked, withdrawn or expired referral opens nothing even if this
// check were wrong. The audit record (purpose SERVICE_REFERRAL) commits in the same
// transaction, before anything is returned; the first read moves SENT to RECEIVED.
func (s *Service) GetReferralData(ctx context.Context, req *referralv1.GetReferralDataRequest) (*referralv1.GetReferralDataResponse, error) {
	who, scope, err := partnerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rpcerr.ParseID("referral_id", req.GetReferralId())
	if err != nil {
		return nil, err
	}
	ctx = audit.WithReason(ctx, req.GetPurpose().String())
	// A consent withdrawal committed in intake takes effect before the read: apply it first
	// (it withdraws the referral), so the partner's access ends at once.
	if r, err := getReferral(ctx, s.db.Partner(scope.partner), scope, id, false); err == nil && r.CaseId != "" {
		if err := s.catchUpConsent(ctx, uuid.MustParse(r.CaseId)); err != nil {
			return nil, toStatus(err)
		}
	}
	resp := &referralv1.GetReferralDataResponse{}
	// Not mutation.Run: a read, audited, that changes nothing and keeps no first result.
	err = s.db.PartnerTx(ctx, scope.partner, func(tx pgx.Tx) error {
		r, err := getReferral(ctx, tx, scope, id, true)
		if err != nil {
			return err
		}
		if r.Direction != outbound {
			// The partner sent it: there is nothing of ours to share.
			return &DataUnavailableError{Status: r.Status}
		}
		if !dataOpen(r.Status) {
			return &DataUnavailableError{Status: r.Status}
		}
		profile, err := profileVersion(ctx, tx, r.ServiceCategory, r.ProfileVersion)
		if err != nil {
			return err
		}
		c, err := getCase(ctx, tx, r.Mission, uuid.MustParse(r.CaseId))
		if err != nil {
			return err
		}
		project(resp, profile, c)
		resp.ReferralId, resp.ProfileVersion = r.ReferralId, profile.Version
		b := &pgx.Batch{}
		if r.Status == sent {
			from := r.Status
			r.Status, r.Version, r.UpdateTime = received, r.Version+1, s.timestamp()
			queueUpdateReferral(b, r)
			if err := queueMoved(b, moved{r: r, from: from, cause: causeOf(ctx), actor: actorOf(who)}); err != nil {
				return err
			}
		}
		var st database.Statement
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, r.Mission, id)})
		st.Queue(b)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !slices.ContainsFunc(profile.Fields, func(f referralv1.SharedField) bool { return slices.Contains(identityFields, f) }) {
			return nil
		}
		subject := uuid.MustParse(r.SubjectId)
		sealed, err := vault.Get(ctx, tx, []uuid.UUID{subject})
		if err != nil {
			return err
		}
		sl, ok := sealed[subject]
		if !ok {
			return nil // erased: the coded attributes are all there is
		}
		person, err := s.keys.Open(subject, sl)
		if err != nil {
			return fmt.Errorf("open identity: %w", err)
		}
		resp.Person = shareIdentity(person, profile.Fields)
		return nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// project copies the coded attributes the profile shares.
func project(resp *referralv1.GetReferralDataResponse, p *referralv1.DataProfile, c *intakev1.Case) {
	for _, f := range p.Fields {
		switch f {
		case referralv1.SharedField_SHARED_FIELD_PROGRAMME:
			resp.Programme = c.GetProgramme()
		case referralv1.SharedField_SHARED_FIELD_SEX:
			resp.Sex = c.GetPrincipal().GetSex()
		case referralv1.SharedField_SHARED_FIELD_AGE_BAND:
			resp.AgeBand = c.GetPrincipal().GetAgeBand()
		case referralv1.SharedField_SHARED_FIELD_NATIONALITY:
			resp.Nationality = c.GetPrincipal().GetNationality()
		case referralv1.SharedField_SHARED_FIELD_HOST_COUNTRY:
			resp.HostCountry = c.GetHostCountry()
		case referralv1.SharedField_SHARED_FIELD_VULNERABILITIES:
			resp.Vulnerabilities = c.GetVulnerabilities()
		}
	}
}

// shareIdentity keeps of a person only the identity fields the profile shares: a new message,
// so that nothing else of the decrypted identity can reach the response.
func shareIdentity(p *commonv1.Person, fields []referralv1.SharedField) *commonv1.Person {
	out := &commonv1.Person{}
	for _, f := range fields {
		switch f {
		case referralv1.SharedField_SHARED_FIELD_NAME:
			out.GivenName, out.FamilyName = p.GetGivenName(), p.GetFamilyName()
		case referralv1.SharedField_SHARED_FIELD_DATE_OF_BIRTH:
			out.DateOfBirth = p.GetDateOfBirth()
		case referralv1.SharedField_SHARED_FIELD_PHONE:
			out.Phone = p.GetPhone()
		case referralv1.SharedField_SHARED_FIELD_ADDRESS:
			out.Address = p.GetAddress()
		case referralv1.SharedField_SHARED_FIELD_DOCUMENTS:
			out.Documents = p.GetDocuments()
		}
	}
	return out
}
