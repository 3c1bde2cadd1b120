package referral

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	"github.com/passage-cm/passage/internal/webhook"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// secretPurpose binds a sealed signing secret to its use (see vault.Keyring.SealSecret).
const secretPurpose = "referral.partner.signing_secret"

// atHQ reports whether the caller acts for HQ.
func atHQ(who auth.Claims) bool { return who.Mission == auth.MissionHQ }

var errHQOnly = status.Error(codes.PermissionDenied, "the partner registry and the data profiles are kept at HQ")

// checkConnection checks what protovalidate cannot: a webhook connection has a URL, others
// none, and the URL may be delivered to. That is https to a host that is not a non-public
// address (loopback, private, link-local, ...: see internal/egress), or plain http to an
// address in a network the deployment allows (Config.Webhook.AllowNetworks, for development).
// A host name is not resolved here, since what it resolves to can change: the webhook worker
// checks the address it dials, every time.
func (s *Service) checkConnection(c *referralv1.Connection) error {
	const field = "connection.webhook_url"
	raw := c.GetWebhookUrl()
	switch {
	case c.GetKind() == referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK && raw == "":
		return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "is required for a webhook connection"))
	case c.GetKind() != referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK && raw != "":
		return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "is only for a webhook connection"))
	case raw == "":
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "must be an https URL with a host and no user information"))
	}
	policy := egress.Policy{Allow: s.cfg.Webhook.AllowNetworks}
	if u.Scheme == "http" {
		// Plain http only to a network declared as one's own: a literal address in it, or
		// localhost when loopback is allowed. A name could resolve anywhere.
		host := u.Hostname()
		_, notLiteral := netip.ParseAddr(host)
		declared := notLiteral == nil || isLocalhost(host)
		if len(policy.Allow) == 0 || !declared || policy.OnlyAllowed().CheckHost(host) != nil {
			return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "must be https (plain http only to an address in a network this deployment allows)"))
		}
		return nil
	}
	var refused *egress.RefusedError
	if err := policy.CheckHost(u.Hostname()); errors.As(err, &refused) {
		return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "must not point at a non-public address ("+refused.Kind+")"))
	}
	return nil
}

// isLocalhost reports whether host is a name RFC 6761 reserves for the loopback address.
func isLocalhost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// RegisterPartner adds an agency to the registry. A webhook connection's signing secret is
// generated here, sealed by the KEK for storage, and returned in this response only: a retry
// of the same request gets the partner without it.
func (s *Service) RegisterPartner(ctx context.Context, req *referralv1.RegisterPartnerRequest) (*referralv1.RegisterPartnerResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !atHQ(who) {
		return nil, errHQOnly
	}
	if err := s.checkConnection(req.GetConnection()); err != nil {
		return nil, err
	}
	if fromDate(req.GetAgreement().GetExpiryDate()).Before(fromDate(req.GetAgreement().GetStartDate())) {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("agreement.expiry_date", "must not be before start_date"))
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_RegisterPartner_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.RegisterPartnerResponse{}
	if replayed, err := s.idem.Replay(ctx, s.db.Mission(who.Mission), key, resp); replayed || err != nil {
		return resp, toStatus(err)
	}
	id := uuid.New()
	now := s.timestamp()
	p := &referralv1.Partner{
		PartnerId: id.String(), Code: req.GetCode(), Name: req.GetName(), Category: req.GetCategory(),
		Services: req.GetServices(), Countries: req.GetCountries(),
		Connection: &referralv1.Connection{Kind: req.GetConnection().GetKind(), WebhookUrl: req.GetConnection().GetWebhookUrl()},
		Agreement:  req.GetAgreement(), Version: 1, CreateTime: now, UpdateTime: now,
	}
	var secret string
	var sealed []byte
	var kekID *int64
	if p.Connection.Kind == referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK {
		if secret, sealed, kekID, err = s.sealNewSecret(id); err != nil {
			return nil, err
		}
		p.Connection.HasSigningSecret = true
	}
	services, categories, err := storedServices(p.Services)
	if err != nil {
		return nil, err
	}
	// The stored first result holds no secret: a retry must not hand it out a second time.
	resp.Partner = p
	var applied bool
	n := mutation.New{Who: who, Key: key, ID: id, Mission: who.Mission, Resp: resp, Applied: &applied}
	err = s.creator.Create(ctx, n, func(b *pgx.Batch) (proto.Message, error) {
		b.Queue(`INSERT INTO referral.partner (partner_id, code, name, category, services, service_categories, countries,
connection_kind, webhook_url, signing_secret, signing_secret_kek, agreement_reference, agreement_start,
agreement_expiry, version, created_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $16, $16)`,
			id, p.Code, p.Name, partnerCategoryCode(p.Category), services, categories, p.Countries,
			enumcode.Code(p.Connection.Kind), p.Connection.WebhookUrl, sealed, kekID,
			p.Agreement.GetReference(), fromDate(p.Agreement.GetStartDate()), fromDate(p.Agreement.GetExpiryDate()),
			who.Subject, now.AsTime())
		return &referralv1.PartnerRegistered{Partner: p}, nil
	})
	switch {
	case err == nil && applied:
		// The secret is this call's to hand out only when its own write committed; a racing
		// retry that committed first answers with its stored result, which has none.
		return &referralv1.RegisterPartnerResponse{Partner: p, SigningSecret: secret}, nil
	case err == nil:
		return resp, nil
	case database.IsUniqueViolation(err, "partner_code_key"):
		return nil, toStatus(errPartnerExists)
	}
	return nil, toStatus(fmt.Errorf("register partner: %w", err))
}

// sealNewSecret makes a signing secret and seals it for the partner's row.
func (s *Service) sealNewSecret(partner uuid.UUID) (string, []byte, *int64, error) {
	secret := webhook.NewSecret().Encode()
	sealed, kek, err := s.keys.SealSecret(partner, secretPurpose, []byte(secret))
	if err != nil {
		return "", nil, nil, err
	}
	id := int64(kek)
	return secret, sealed, &id, nil
}

// GetPartner reads a registry entry: staff any, a partner its own (another's is NOT_FOUND).
func (s *Service) GetPartner(ctx context.Context, req *referralv1.GetPartnerRequest) (*referralv1.GetPartnerResponse, error) {
	_, scope, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := rpcerr.ParseID("partner_id", req.GetPartnerId())
	if err != nil {
		return nil, err
	}
	if scope.partner != "" && scope.partner != id.String() {
		return nil, toStatus(errPartnerNotFound)
	}
	p, err := getPartner(ctx, s.querier(scope), id, false)
	if err != nil {
		return nil, toStatus(err)
	}
	return &referralv1.GetPartnerResponse{Partner: p}, nil
}

// ListPartners lists the registry by name, optionally those offering a service category or
// working in a country.
func (s *Service) ListPartners(ctx context.Context, req *referralv1.ListPartnersRequest) (*referralv1.ListPartnersResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	size := pagetoken.Size(req.GetPageSize())
	filter := pagetoken.Filter(categoryCode(req.GetServiceCategory()) + "|" + req.GetCountry())
	// The registry is ordered by name; the cursor's time is unused and its id breaks ties of
	// the name, carried in the token's filter-bound position as the last name seen.
	after := ""
	var afterID uuid.UUID
	if tok := req.GetPageToken(); tok != "" {
		c, err := decodeNameCursor(tok, filter)
		if err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
		after, afterID = c.Name, c.ID
	}
	var category, country *string
	if req.GetServiceCategory() != 0 {
		c := categoryCode(req.GetServiceCategory())
		category = &c
	}
	if req.GetCountry() != "" {
		country = &req.Country
	}
	rows, err := s.db.Mission(who.Mission).Query(ctx, `SELECT `+partnerColumns+` FROM referral.partner
WHERE ($1::text IS NULL OR $1 = ANY(service_categories)) AND ($2::text IS NULL OR $2 = ANY(countries))
  AND (name, partner_id) > ($3, $4)
ORDER BY name, partner_id LIMIT $5`, category, country, after, afterID, size+1)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	defer rows.Close()
	resp := &referralv1.ListPartnersResponse{}
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			return nil, err
		}
		resp.Partners = append(resp.Partners, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	if len(resp.Partners) > size {
		resp.Partners = resp.Partners[:size]
		last := resp.Partners[size-1]
		resp.NextPageToken = encodeNameCursor(nameCursor{Name: last.Name, ID: uuid.MustParse(last.PartnerId)}, filter)
	}
	return resp, nil
}

// UpdatePartner replaces a partner's organisation, services, countries, connection and
// agreement; the code and category, which consents name, never change.
func (s *Service) UpdatePartner(ctx context.Context, req *referralv1.UpdatePartnerRequest) (*referralv1.UpdatePartnerResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !atHQ(who) {
		return nil, errHQOnly
	}
	if err := s.checkConnection(req.GetConnection()); err != nil {
		return nil, err
	}
	if fromDate(req.GetAgreement().GetExpiryDate()).Before(fromDate(req.GetAgreement().GetStartDate())) {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("agreement.expiry_date", "must not be before start_date"))
	}
	if _, err := rpcerr.ParseID("partner_id", req.GetPartnerId()); err != nil {
		return nil, err
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_UpdatePartner_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.UpdatePartnerResponse{}
	var secret string
	var applied bool
	m := mutation.Mutation{Who: who, Key: key, Ref: req.GetPartnerId(), Version: req.GetVersion(), Resp: resp, Applied: &applied}
	err = s.partners.Run(ctx, m, func(e *partnerEdit, _ *mutation.Step) (proto.Message, error) {
		p, id := e.p, uuid.MustParse(e.p.PartnerId)
		webhook := req.GetConnection().GetKind() == referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK
		p.Name, p.Services, p.Countries, p.Agreement = req.GetName(), req.GetServices(), req.GetCountries(), req.GetAgreement()
		hadSecret := p.Connection.GetHasSigningSecret()
		p.Connection = &referralv1.Connection{Kind: req.GetConnection().GetKind(), WebhookUrl: req.GetConnection().GetWebhookUrl()}
		// A webhook connection keeps its secret unless asked to rotate it; one without a
		// secret gets one; other connections keep none.
		e.keep = webhook && hadSecret && !req.GetRotateSigningSecret()
		if webhook && !e.keep {
			var err error
			if secret, e.sealed, e.kekID, err = s.sealNewSecret(id); err != nil {
				return nil, err
			}
		}
		p.Connection.HasSigningSecret = webhook
		var err error
		if e.services, e.categories, err = storedServices(p.Services); err != nil {
			return nil, err
		}
		resp.Partner = p
		return &referralv1.PartnerUpdated{Partner: p}, nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	if applied && secret != "" {
		// As in RegisterPartner: a new secret is this call's only when its own write committed.
		return &referralv1.UpdatePartnerResponse{Partner: resp.Partner, SigningSecret: secret}, nil
	}
	return resp, nil
}

// partnerEdit is a partner being changed (UpdatePartner): the partner, the HQ mission that
// changes it, and what its row's update needs beyond the partner itself.
type partnerEdit struct {
	p       *referralv1.Partner
	mission string
	// keep leaves the signing secret as it is; otherwise sealed (under key kekID) replaces it.
	keep   bool
	sealed []byte
	kekID  *int64
	// services and categories are the services as the row stores them (storedServices).
	services   []byte
	categories []string
}

// partnerKind describes a partner to mutation.Run: HQ's, changed in HQ's mission.
func (s *Service) partnerKind() mutation.Kind[*partnerEdit] {
	return mutation.Kind[*partnerEdit]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock,
		Parse: func(ref string) (uuid.UUID, error) { return rpcerr.ParseID("partner_id", ref) },
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*partnerEdit, error) {
			p, err := getPartner(ctx, tx, id, true)
			if err != nil {
				return nil, err
			}
			return &partnerEdit{p: p, mission: who.Mission}, nil
		},
		Version: func(e *partnerEdit) int64 { return e.p.Version },
		Mission: func(e *partnerEdit) string { return e.mission },
		Stale: func(_ string, e *partnerEdit) error {
			return staleVersion("partners/"+e.p.PartnerId, e.p.Version)
		},
		Save: func(e *partnerEdit, st *mutation.Step) {
			p := e.p
			p.Version, p.UpdateTime = st.Version, timestamppb.New(st.Now)
			st.Batch.Queue(`UPDATE referral.partner SET name = $2, services = $3, service_categories = $4, countries = $5,
connection_kind = $6, webhook_url = $7,
signing_secret = CASE WHEN $8 THEN signing_secret ELSE $9 END,
signing_secret_kek = CASE WHEN $8 THEN signing_secret_kek ELSE $10 END,
agreement_reference = $11, agreement_start = $12, agreement_expiry = $13, version = $14, updated_at = $15
WHERE partner_id = $1`,
				p.PartnerId, p.Name, e.services, e.categories, p.Countries, enumcode.Code(p.Connection.Kind),
				p.Connection.WebhookUrl, e.keep, e.sealed, e.kekID, p.Agreement.GetReference(), fromDate(p.Agreement.GetStartDate()),
				fromDate(p.Agreement.GetExpiryDate()), p.Version, p.UpdateTime.AsTime())
		},
	}
}

// Endpoint implements webhook.Endpoints from the registry: where a webhook partner receives
// events, and the secret to sign them with, opened from its sealed form. A partner that no
// longer connects by webhook has no endpoint: the delivery fails and, in time, is dead.
func (s *Service) Endpoint(ctx context.Context, mission string, partner uuid.UUID) (string, webhook.Secret, error) {
	var (
		kind, url string
		sealed    []byte
	)
	err := s.db.Mission(mission).QueryRow(ctx, `SELECT connection_kind, webhook_url, signing_secret FROM referral.partner
WHERE partner_id = $1`, partner).Scan(&kind, &url, &sealed)
	if err != nil {
		return "", webhook.Secret{}, fmt.Errorf("partner endpoint: %w", database.NotFound(err))
	}
	if kind != enumcode.Code(referralv1.ConnectionKind_CONNECTION_KIND_WEBHOOK) || sealed == nil {
		return "", webhook.Secret{}, errors.New("partner endpoint: the partner has no webhook connection")
	}
	raw, err := s.keys.OpenSecret(partner, secretPurpose, sealed)
	if err != nil {
		return "", webhook.Secret{}, fmt.Errorf("partner endpoint: %w", err)
	}
	secret, err := webhook.ParseSecret(string(raw))
	if err != nil {
		return "", webhook.Secret{}, errors.New("partner endpoint: stored signing secret is malformed")
	}
	return url, secret, nil
}

var _ webhook.Endpoints = (*Service)(nil)
