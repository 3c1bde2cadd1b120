package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

const referralUsage = `usage: passage referral <command> [arguments]

commands (caseworkers and supervisors of the mission):
  partners [--category C] [--country X] [--all]        the partner registry, by name
  create CASE_ID --partner ID --service S --reason R [--override REASON]
                                                        draft an outbound referral; it rests on the person's
                                                        DATA_SHARING consent, or (supervisors) a coded override
  send REFERRAL_ID --version N                          send a draft to its partner
  get REFERRAL_ID                                       show a referral
  list [--status S] [--direction D] [--case ID] [--all] the mission's referrals, newest first
  revoke REFERRAL_ID --version N --reason R             withdraw an outbound referral
  accept REFERRAL_ID --version N [--case CASE_ID]       accept an inbound referral, and link it to a case
  link REFERRAL_ID --version N --case CASE_ID           link an accepted inbound referral to a case of the mission
  open-case REFERRAL_ID --version N --programme P --given-name G [case register flags]
                                                        open an intake case for the person referred, and link it
  decline REFERRAL_ID --version N --reason R            decline an inbound referral
  complete REFERRAL_ID --version N --outcome O          close an accepted inbound referral with its outcome
commands (partner agencies, with a partner token):
  inbound --mission M --service S --reason R --reference REF   refer a person to a mission (idempotent on REF)
  get, list, accept, decline, complete                  the same as staff, on the partner's own referrals
  events [--cursor C] [--page-size N]                   the partner's feed of changes, in commit order
commands (operators):
  deliveries list|replay                                outbound webhook deliveries (passage referral deliveries -h)

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the --tls-*
flags, --json and --timeout. "passage referral <command> -h" lists a command's flags.
`

// runReferral runs `passage referral <command>`: the client of the ReferralService (and of
// IntakeService's RegisterCase for open-case).
func runReferral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "deliveries" {
		return runReferralDeliveries(ctx, args[1:], stdout, stderr)
	}
	return newClient(stdout, stderr).referralRun(ctx, args)
}

var (
	referralStatuses  = newEnumNames(referralv1.ReferralStatus_value)
	directions        = newEnumNames(referralv1.Direction_value)
	serviceCategories = newEnumNames(referralv1.ServiceCategory_value)
	referralReasons   = newEnumNames(referralv1.ReferralReason_value)
	overrideReasons   = newEnumNames(referralv1.OverrideReason_value)
	declineReasons    = newEnumNames(referralv1.DeclineReason_value)
	serviceOutcomes   = newEnumNames(referralv1.ServiceOutcome_value)
	revokeReasons     = newEnumNames(referralv1.RevokeReason_value)
)

// referralRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) referralRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "referral", referralUsage, args, c.stdout, c.stderr, commands{
		"partners":  c.referralPartners,
		"create":    c.referralCreate,
		"send":      c.referralSend,
		"get":       c.referralGet,
		"list":      c.referralList,
		"revoke":    c.referralRevoke,
		"accept":    c.referralAccept,
		"link":      c.referralLink,
		"open-case": c.referralOpenCase,
		"decline":   c.referralDecline,
		"complete":  c.referralComplete,
		"events":    c.referralEvents,
		"inbound":   c.referralInbound,
	})
}

// versionFlag defines --version, the referral version the caller read.
func versionFlag(fs *flag.FlagSet, v *int64) {
	fs.Int64Var(v, "version", 0, "the referral version you read (passage referral get); required")
}

var errNoVersion = errors.New("--version is required: the version you read (passage referral get)")

// referralMutation fills in a request id, announces it and makes the call.
func referralMutation[Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string, req Req, setID func(string),
	rpc func(referralv1.ReferralServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	return mutationOn(ctx, &c.cli, o, c.referral, method, req, setID, rpc, human)
}

// codedFields are the fields of a request that moves a referral on with one coded answer.
type codedFields[E ~int32] struct {
	referralID, requestID *string
	version               *int64
	code                  *E
}

// referralCoded runs a command that moves a referral on with one coded answer (revoke and
// decline --reason, complete --outcome): REFERRAL_ID, --version N and --FLAG CODE, one call.
func referralCoded[Req interface {
	proto.Message
	GetRequestId() string
}, Resp interface {
	proto.Message
	GetReferral() *referralv1.Referral
}, E ~int32](ctx context.Context, c *client, args []string, name, flagName, help string, names enumNames, req Req,
	f codedFields[E], method string, rpc func(referralv1.ReferralServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) error {
	fs, o := c.groupFlagSet("referral", name, fmt.Sprintf("%s REFERRAL_ID --version N --%s %s", name, flagName, strings.ToUpper(flagName[:1])), f.requestID)
	versionFlag(fs, f.version)
	code := fs.String(flagName, "", help+": "+names.list())
	pos, _, err := c.groupParse("referral", fs, o, args, 1, name+" takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	if *f.referralID = pos[0]; *f.version <= 0 {
		return errNoVersion
	}
	if *f.code, err = parseEnum[E](names, *code); err != nil {
		return fmt.Errorf("--%s %w", flagName, err)
	}
	return referralMutation(ctx, c, o, method, req, func(id string) { *f.requestID = id }, rpc, referralOf[Resp])
}

// referralUnary connects, makes one call and prints its response: as JSON with --json, else
// with human. requestID is the call's idempotency key, empty for reads.
func referralUnary[Req any, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method, requestID string,
	rpc func(referralv1.ReferralServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req, human func(io.Writer, Resp) error,
) error {
	return unaryOn(ctx, &c.cli, o, c.referral, method, requestID, rpc, req, human)
}

func referralOf[R interface{ GetReferral() *referralv1.Referral }](w io.Writer, resp R) error {
	return formatReferral(w, resp.GetReferral())
}

// linkRequestID is the request id of the link a two-step command (accept --case, open-case)
// makes after its first call: derived from the first call's id, so that repeating the command
// with --request-id repeats both calls under their first ids, and each is applied once.
func linkRequestID(first string) string {
	id, err := uuid.Parse(first)
	if err != nil {
		return "" // the server refuses the first call's malformed id before this one is sent
	}
	return uuid.NewSHA1(id, []byte("passage referral link")).String()
}

// Commands.

func (c *client) referralPartners(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("referral", "partners", "partners [--category C] [--country X] [--all]", nil)
	category := fs.String("category", "", "only partners offering this service `CATEGORY`: "+serviceCategories.list())
	country := fs.String("country", "", "only partners working in this ISO 3166-1 alpha-3 `COUNTRY`")
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("referral", fs, o, args, 0, "partners takes no arguments besides flags"); err != nil {
		return err
	}
	req := &referralv1.ListPartnersRequest{Country: countryCode(*country), PageToken: *pageToken}
	if *all {
		req.PageSize = 100
	}
	if *category != "" {
		var err error
		if req.ServiceCategory, err = parseEnum[referralv1.ServiceCategory](serviceCategories, *category); err != nil {
			return fmt.Errorf("--category %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.referral, "ListPartners", "partners", *all,
		referralv1.ReferralServiceClient.ListPartners, req, func(t string) { req.PageToken = t },
		func(r *referralv1.ListPartnersResponse) ([]*referralv1.Partner, string) {
			return r.GetPartners(), r.GetNextPageToken()
		},
		func(ps []*referralv1.Partner) proto.Message { return &referralv1.ListPartnersResponse{Partners: ps} },
		formatPartners)
}

func (c *client) referralCreate(ctx context.Context, args []string) error {
	req := &referralv1.CreateReferralRequest{}
	fs, o := c.groupFlagSet("referral", "create", "create CASE_ID --partner ID --service S --reason R [--override REASON]", &req.RequestId)
	fs.StringVar(&req.PartnerId, "partner", "", "the receiving partner's `ID` (passage referral partners); required")
	service := fs.String("service", "", "the service `CATEGORY` referred for: "+serviceCategories.list())
	reason := fs.String("reason", "", "why the person is referred, `REASON`: "+referralReasons.list())
	override := fs.String("override", "", "(supervisors) refer without the person's consent, for `REASON`: "+overrideReasons.list())
	pos, given, err := c.groupParse("referral", fs, o, args, 1, "create takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId, req.PartnerId = pos[0], strings.TrimSpace(req.PartnerId)
	if req.PartnerId == "" {
		return errors.New("--partner is required: the partner's id (passage referral partners)")
	}
	if req.ServiceCategory, err = parseEnum[referralv1.ServiceCategory](serviceCategories, *service); err != nil {
		return fmt.Errorf("--service %w", err)
	}
	if req.Reason, err = parseEnum[referralv1.ReferralReason](referralReasons, *reason); err != nil {
		return fmt.Errorf("--reason %w", err)
	}
	if given["override"] {
		r, err := parseEnum[referralv1.OverrideReason](overrideReasons, *override)
		if err != nil {
			return fmt.Errorf("--override %w", err)
		}
		req.ConsentOverride = &referralv1.ConsentOverride{Reason: r}
	}
	return referralMutation(ctx, c, o, "CreateReferral", req, func(id string) { req.RequestId = id },
		referralv1.ReferralServiceClient.CreateReferral, referralOf)
}

func (c *client) referralSend(ctx context.Context, args []string) error {
	req := &referralv1.SendReferralRequest{}
	fs, o := c.groupFlagSet("referral", "send", "send REFERRAL_ID --version N", &req.RequestId)
	versionFlag(fs, &req.Version)
	pos, _, err := c.groupParse("referral", fs, o, args, 1, "send takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	if req.ReferralId = pos[0]; req.Version <= 0 {
		return errNoVersion
	}
	return referralMutation(ctx, c, o, "SendReferral", req, func(id string) { req.RequestId = id },
		referralv1.ReferralServiceClient.SendReferral, referralOf)
}

func (c *client) referralGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("referral", "get", "get REFERRAL_ID", nil)
	pos, _, err := c.groupParse("referral", fs, o, args, 1, "get takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	return referralUnary(ctx, c, o, "GetReferral", "", referralv1.ReferralServiceClient.GetReferral,
		&referralv1.GetReferralRequest{ReferralId: pos[0]}, referralOf)
}

func (c *client) referralList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("referral", "list", "list [--status S] [--direction D] [--case ID] [--all]", nil)
	st := fs.String("status", "", "only this `STATUS`: "+referralStatuses.list())
	direction := fs.String("direction", "", "only this `DIRECTION`: "+directions.list())
	req := &referralv1.ListReferralsRequest{}
	fs.StringVar(&req.CaseId, "case", "", "only this case's referrals, `CASE_ID` (mission staff)")
	fs.StringVar(&req.PageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("referral", fs, o, args, 0, "list takes no arguments besides flags"); err != nil {
		return err
	}
	if *all {
		req.PageSize = 100
	}
	var err error
	if *st != "" {
		if req.Status, err = parseEnum[referralv1.ReferralStatus](referralStatuses, *st); err != nil {
			return fmt.Errorf("--status %w", err)
		}
	}
	if *direction != "" {
		if req.Direction, err = parseEnum[referralv1.Direction](directions, *direction); err != nil {
			return fmt.Errorf("--direction %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.referral, "ListReferrals", "referrals", *all,
		referralv1.ReferralServiceClient.ListReferrals, req, func(t string) { req.PageToken = t },
		func(r *referralv1.ListReferralsResponse) ([]*referralv1.Referral, string) {
			return r.GetReferrals(), r.GetNextPageToken()
		},
		func(rs []*referralv1.Referral) proto.Message { return &referralv1.ListReferralsResponse{Referrals: rs} },
		formatReferrals)
}

func (c *client) referralRevoke(ctx context.Context, args []string) error {
	req := &referralv1.RevokeReferralRequest{}
	return referralCoded(ctx, c, args, "revoke", "reason", "why, `REASON`", revokeReasons, req,
		codedFields[referralv1.RevokeReason]{&req.ReferralId, &req.RequestId, &req.Version, &req.Reason},
		"RevokeReferral", referralv1.ReferralServiceClient.RevokeReferral)
}

// accept accepts a referral; with --case (an inbound referral, mission staff) it then links
// the case, under a request id derived from the accept's.
func (c *client) referralAccept(ctx context.Context, args []string) error {
	req := &referralv1.AcceptReferralRequest{}
	fs, o := c.groupFlagSet("referral", "accept", "accept REFERRAL_ID --version N [--case CASE_ID] [--partner-reference REF]", &req.RequestId)
	versionFlag(fs, &req.Version)
	fs.StringVar(&req.PartnerReference, "partner-reference", "", "(partners) your own `REFERENCE` for the referral")
	caseID := fs.String("case", "", "(mission staff, inbound referral) then link it to this `CASE_ID` of the mission")
	pos, _, err := c.groupParse("referral", fs, o, args, 1, "accept takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	if req.ReferralId = pos[0]; req.Version <= 0 {
		return errNoVersion
	}
	if *caseID == "" {
		return referralMutation(ctx, c, o, "AcceptReferral", req, func(id string) { req.RequestId = id },
			referralv1.ReferralServiceClient.AcceptReferral, referralOf)
	}
	if req.RequestId == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	client, done, err := c.referral(*o)
	if err != nil {
		return err
	}
	defer done()
	acc, err := call(ctx, o, client.AcceptReferral, req)
	if err != nil {
		return c.failed("AcceptReferral", err, req.GetRequestId())
	}
	return c.referralLinkAfter(ctx, o, client, acc.GetReferral(), strings.TrimSpace(*caseID), req.GetRequestId())
}

// linkAfter links r, just accepted or with its case just opened, to caseID and prints the
// result.
func (c *client) referralLinkAfter(ctx context.Context, o *clientOptions, client referralv1.ReferralServiceClient,
	r *referralv1.Referral, caseID, firstRequestID string,
) error {
	link := &referralv1.LinkReferralCaseRequest{RequestId: linkRequestID(firstRequestID), ReferralId: r.GetReferralId(),
		Version: r.GetVersion(), CaseId: caseID}
	resp, err := call(ctx, o, client.LinkReferralCase, link)
	if err != nil {
		fmt.Fprintf(c.stderr, "referral %s is at version %d; link it with: passage referral link %s --version %d --case %s\n",
			r.GetReferralId(), r.GetVersion(), r.GetReferralId(), r.GetVersion(), caseID)
		return c.failed("LinkReferralCase", err, firstRequestID)
	}
	if o.json {
		return writeJSON(c.stdout, resp)
	}
	return formatReferral(c.stdout, resp.GetReferral())
}

func (c *client) referralLink(ctx context.Context, args []string) error {
	req := &referralv1.LinkReferralCaseRequest{}
	fs, o := c.groupFlagSet("referral", "link", "link REFERRAL_ID --version N --case CASE_ID", &req.RequestId)
	versionFlag(fs, &req.Version)
	fs.StringVar(&req.CaseId, "case", "", "the mission's `CASE_ID` of the person referred; required")
	pos, _, err := c.groupParse("referral", fs, o, args, 1, "link takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	if req.ReferralId, req.CaseId = pos[0], strings.TrimSpace(req.CaseId); req.Version <= 0 {
		return errNoVersion
	}
	if req.CaseId == "" {
		return errors.New("--case is required: the case of the person referred")
	}
	return referralMutation(ctx, c, o, "LinkReferralCase", req, func(id string) { req.RequestId = id },
		referralv1.ReferralServiceClient.LinkReferralCase, referralOf)
}

// openCase opens an intake case for the person an accepted inbound referral refers, through
// intake's own RegisterCase (the registration flags of passage case register), then links
// the referral to it. Repeating the command with --request-id repeats both calls under their
// first ids: the case is registered once and linked once.
func (c *client) referralOpenCase(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("referral", "open-case", "open-case REFERRAL_ID --version N --mission M --programme P --given-name G [case register flags]", nil)
	var version int64
	versionFlag(fs, &version)
	var f registerFlags
	f.bind(fs, c.getenv)
	pos, _, err := c.groupParse("referral", fs, o, args, 1, "open-case takes one REFERRAL_ID")
	if err != nil {
		return err
	}
	if version <= 0 {
		return errNoVersion
	}
	if f.file != "" {
		return errors.New("open-case takes the registration flags, not --file")
	}
	reg, err := f.request(c.now())
	if err != nil {
		return err
	}
	if reg.GetRequestId() == "" {
		reg.RequestId = c.newRequestID()
	}
	c.announceRequestID(reg.GetRequestId())
	intake, doneIntake, err := c.intake(*o)
	if err != nil {
		return err
	}
	defer doneIntake()
	registered, err := call(ctx, o, intake.RegisterCase, reg)
	if err != nil {
		return c.failed("RegisterCase", err, reg.GetRequestId())
	}
	if !o.json {
		if err := formatRegister(c.stdout, registered); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout)
	}
	client, done, err := c.referral(*o)
	if err != nil {
		return err
	}
	defer done()
	r := &referralv1.Referral{ReferralId: pos[0], Version: version}
	return c.referralLinkAfter(ctx, o, client, r, registered.GetCase().GetCaseId(), reg.GetRequestId())
}

func (c *client) referralDecline(ctx context.Context, args []string) error {
	req := &referralv1.DeclineReferralRequest{}
	return referralCoded(ctx, c, args, "decline", "reason", "why, `REASON`", declineReasons, req,
		codedFields[referralv1.DeclineReason]{&req.ReferralId, &req.RequestId, &req.Version, &req.Reason},
		"DeclineReferral", referralv1.ReferralServiceClient.DeclineReferral)
}

func (c *client) referralComplete(ctx context.Context, args []string) error {
	req := &referralv1.CompleteReferralRequest{}
	return referralCoded(ctx, c, args, "complete", "outcome", "whether the service was delivered, `OUTCOME`", serviceOutcomes, req,
		codedFields[referralv1.ServiceOutcome]{&req.ReferralId, &req.RequestId, &req.Version, &req.Outcome},
		"CompleteReferral", referralv1.ReferralServiceClient.CompleteReferral)
}

// inbound records a partner's referral to a mission. It takes no request id: the partner's
// own reference is the idempotency key, so repeating the command is safe as it is.
func (c *client) referralInbound(ctx context.Context, args []string) error {
	req := &referralv1.CreateInboundReferralRequest{}
	fs, o := c.groupFlagSet("referral", "inbound", "inbound --mission M --service S --reason R --reference REF", nil)
	fs.StringVar(&req.Mission, "mission", "", "the receiving `MISSION` (NER, NER-AGADEZ); required")
	service := fs.String("service", "", "the service `CATEGORY` the person needs: "+serviceCategories.list())
	reason := fs.String("reason", "", "why, `REASON`: "+referralReasons.list())
	fs.StringVar(&req.PartnerReference, "reference", "", "your own `REFERENCE` for the referral: the same one returns the referral made first; required")
	if _, _, err := c.groupParse("referral", fs, o, args, 0, "inbound takes no arguments besides flags"); err != nil {
		return err
	}
	req.Mission, req.PartnerReference = strings.ToUpper(strings.TrimSpace(req.Mission)), strings.TrimSpace(req.PartnerReference)
	if req.Mission == "" || req.PartnerReference == "" {
		return errors.New("--mission and --reference are required")
	}
	var err error
	if req.ServiceCategory, err = parseEnum[referralv1.ServiceCategory](serviceCategories, *service); err != nil {
		return fmt.Errorf("--service %w", err)
	}
	if req.Reason, err = parseEnum[referralv1.ReferralReason](referralReasons, *reason); err != nil {
		return fmt.Errorf("--reason %w", err)
	}
	return referralUnary(ctx, c, o, "CreateInboundReferral", "", referralv1.ReferralServiceClient.CreateInboundReferral, req, referralOf)
}

// events prints one page of the partner's feed, and the cursor to read the next from.
func (c *client) referralEvents(ctx context.Context, args []string) error {
	req := &referralv1.ListReferralEventsRequest{}
	fs, o := c.groupFlagSet("referral", "events", "events [--cursor C] [--page-size N]", nil)
	fs.StringVar(&req.Cursor, "cursor", "", "read on from this `CURSOR`, the previous call's next cursor (default: from the start)")
	size := fs.Int("page-size", 0, "at most `N` events (up to 100; default 25)")
	if _, _, err := c.groupParse("referral", fs, o, args, 0, "events takes no arguments besides flags"); err != nil {
		return err
	}
	if *size < 0 || *size > 100 {
		return errors.New("--page-size must be between 0 and 100")
	}
	req.PageSize = int32(*size)
	return referralUnary(ctx, c, o, "ListReferralEvents", "", referralv1.ReferralServiceClient.ListReferralEvents, req,
		func(w io.Writer, resp *referralv1.ListReferralEventsResponse) error {
			if len(resp.GetEvents()) == 0 {
				fmt.Fprintln(c.stderr, "no new events")
			} else if err := formatEvents(w, resp.GetEvents()); err != nil {
				return err
			}
			// The cursor goes to stderr, beside the table: a script reads it from --json.
			fmt.Fprintf(c.stderr, "next: passage referral events --cursor %s\n", resp.GetNextCursor())
			return nil
		})
}

// Output. A referral holds ids and codes only: nothing printed here is personal data.

// label is an enum value as the flags take it, with spaces ("specialised care").
func label[T enumcode.Enum](v T) string {
	return strings.ReplaceAll(enumName(v), "_", " ")
}

func formatReferral(w io.Writer, r *referralv1.Referral) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	field("referral", r.GetReferralId())
	field("status", fmt.Sprintf("%s (version %d)", label(r.GetStatus()), r.GetVersion()))
	field("direction", label(r.GetDirection()))
	field("mission", r.GetMission())
	// No line when there is no case: a partner is never shown the case, linked or not, so its
	// absence must not read as "not linked".
	if r.GetCaseId() != "" {
		field("case", fmt.Sprintf("%s (subject %s)", r.GetCaseId(), r.GetSubjectId()))
	}
	field("partner", fmt.Sprintf("%s (%s)", r.GetPartnerId(), label(r.GetPartnerCategory())))
	field("service", label(r.GetServiceCategory()))
	field("reason", label(r.GetReason()))
	switch o := r.GetConsentOverride(); {
	case r.GetConsentId() != "":
		field("consent", r.GetConsentId())
	case o != nil:
		by := ""
		if o.GetRecordedBy() != "" {
			by = ", recorded by " + o.GetRecordedBy()
		}
		field("consent", "none: override for "+label(o.GetReason())+by)
	}
	if v := r.GetProfileVersion(); v > 0 {
		field("data profile", fmt.Sprintf("version %d", v))
	}
	if ref := r.GetPartnerReference(); ref != "" {
		field("partner reference", ref)
	}
	if d := r.GetDeclineReason(); d != 0 {
		field("declined", label(d))
	}
	if x := r.GetOutcome(); x != 0 {
		field("outcome", label(x))
	}
	if x := r.GetRevokeReason(); x != 0 {
		field("revoked", label(x))
	}
	if r.GetRespondBy() != nil {
		field("respond by", when(r.GetRespondBy()))
	}
	field("created", when(r.GetCreateTime()))
	field("updated", when(r.GetUpdateTime()))
	return tw.Flush()
}

func formatReferrals(w io.Writer, rs []*referralv1.Referral) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REFERRAL\tSTATUS\tDIRECTION\tPARTNER\tSERVICE\tCASE\tVERSION\tUPDATED")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.GetReferralId(), label(r.GetStatus()),
			label(r.GetDirection()), r.GetPartnerId(), label(r.GetServiceCategory()),
			dash(r.GetCaseId()), r.GetVersion(), when(r.GetUpdateTime()))
	}
	return tw.Flush()
}

func formatPartners(w io.Writer, ps []*referralv1.Partner) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tCODE\tCATEGORY\tNAME\tSERVICES\tCOUNTRIES\tCONNECTION\tAGREEMENT UNTIL")
	for _, p := range ps {
		seen := map[string]bool{}
		var cats []string
		for _, s := range p.GetServices() {
			for _, c := range s.GetCategories() {
				if n := enumName(c); !seen[n] {
					seen[n] = true
					cats = append(cats, n)
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.GetPartnerId(), p.GetCode(), label(p.GetCategory()),
			p.GetName(), strings.Join(cats, ","), strings.Join(p.GetCountries(), ","),
			label(p.GetConnection().GetKind()), formatDate(p.GetAgreement().GetExpiryDate()))
	}
	return tw.Flush()
}

func formatEvents(w io.Writer, es []*referralv1.ReferralEvent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tREFERRAL\tSTATUS\tDIRECTION\tVERSION\tTIME")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", e.GetEventId(), e.GetReferralId(), label(e.GetStatus()),
			label(e.GetDirection()), e.GetVersion(), when(e.GetTime()))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
