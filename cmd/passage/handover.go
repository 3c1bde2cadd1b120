package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

const handoverUsage = `usage: passage handover <command> [arguments]

commands (caseworkers and supervisors of the sending mission):
  propose CASE_ID --programme P --to MISSION --part PART... --purpose P (--consent CONSENT_ID | --legal-basis B) --profile N
                                              propose to hand parts of a case of the mission to another mission
  withdraw HANDOVER_ID --version N            withdraw a proposal before it is answered
commands (caseworkers and supervisors of the receiving mission):
  accept HANDOVER_ID --version N              accept a proposal
  decline HANDOVER_ID --version N --reason R  decline a proposal
commands (either mission):
  complete HANDOVER_ID --version N            the part has begun at the receiving mission
  get HANDOVER_ID                             show a hand-over
  list [--direction D] [--status S] [--all]   the mission's hand-overs, incoming and outgoing, newest first
  profiles [--programme P]                    the published data profiles: what a receiving mission may see
commands (programme managers and administrators at HQ):
  profile publish --programme P --field F...  publish the next version of a programme's data profile

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the --tls-*
flags, --json and --timeout. "passage handover <command> -h" lists a command's flags.
`

// runHandover runs `passage handover <command>`: the client of the HandoverService.
func runHandover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).handoverRun(ctx, args)
}

var (
	handoverStatuses   = newEnumNames(handoverv1.HandoverStatus_value)
	handoverParts      = newEnumNames(handoverv1.HandoverPart_value)
	handoverPurposes   = newEnumNames(handoverv1.HandoverPurpose_value)
	handoverDeclines   = newEnumNames(handoverv1.HandoverDeclineReason_value)
	handoverDirections = newEnumNames(handoverv1.HandoverDirection_value)
	handoverFields     = newEnumNames(handoverv1.HandoverField_value)
)

// handoverRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) handoverRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "handover", handoverUsage, args, c.stdout, c.stderr, commands{
		"propose":  c.handoverPropose,
		"withdraw": c.handoverWithdraw,
		"accept":   c.handoverAccept,
		"decline":  c.handoverDecline,
		"complete": c.handoverComplete,
		"get":      c.handoverGet,
		"list":     c.handoverList,
		"profiles": c.handoverProfiles,
		"profile":  c.handoverProfile,
	})
}

// handoverMutation fills in a request id, announces it and makes the call.
func handoverMutation[Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string, req Req, setID func(string),
	rpc func(handoverv1.HandoverServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	return mutationOn(ctx, &c.cli, o, c.handover, method, req, setID, rpc, human)
}

func handoverOf[R interface{ GetHandover() *handoverv1.Handover }](w io.Writer, resp R) error {
	return formatHandover(w, resp.GetHandover())
}

var errNoHandoverVersion = errors.New("--version is required: the version you read (passage handover get)")

// moveFields are the fields of a request that moves a hand-over on.
type moveFields struct {
	handoverID, requestID *string
	version               *int64
}

// handoverMove runs a command that moves a hand-over on (withdraw, accept, decline, complete):
// HANDOVER_ID, --version N and what flags, adds; check, when set, reads them once parsed.
func handoverMove[Req interface {
	proto.Message
	GetRequestId() string
}, Resp interface {
	proto.Message
	GetHandover() *handoverv1.Handover
}](ctx context.Context, c *client, args []string, name, synopsis string, req Req, f moveFields, method string,
	rpc func(handoverv1.HandoverServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
	flags func(fs *flag.FlagSet) func() error,
) error {
	fs, o := c.groupFlagSet("handover", name, synopsis, f.requestID)
	fs.Int64Var(f.version, "version", 0, "the hand-over version you read (passage handover get); required")
	check := func() error { return nil }
	if flags != nil {
		check = flags(fs)
	}
	pos, _, err := c.groupParse("handover", fs, o, args, 1, name+" takes one HANDOVER_ID")
	if err != nil {
		return err
	}
	if *f.handoverID = pos[0]; *f.version <= 0 {
		return errNoHandoverVersion
	}
	if err := check(); err != nil {
		return err
	}
	return handoverMutation(ctx, c, o, method, req, func(id string) { *f.requestID = id }, rpc, handoverOf[Resp])
}

// Commands.

func (c *client) handoverPropose(ctx context.Context, args []string) error {
	req := &handoverv1.ProposeHandoverRequest{}
	fs, o := c.groupFlagSet("handover", "propose",
		"propose CASE_ID --programme P --to MISSION --part PART... --purpose P (--consent CONSENT_ID | --legal-basis B) --profile N", &req.RequestId)
	programme := fs.String("programme", "", "the case's `PROGRAMME`: "+programmes.list())
	to := fs.String("to", "", "the receiving `MISSION`'s code (not your own)")
	var parts stringList
	fs.Var(&parts, "part", "a `PART` of the case to hand over, repeatable: "+handoverParts.list()+" (transfer alone)")
	purpose := fs.String("purpose", "", "why, `PURPOSE`: "+handoverPurposes.list())
	fs.StringVar(&req.ConsentId, "consent", "", "the principal's DATA_SHARING consent record that allows the sharing, `CONSENT_ID`")
	basis := fs.String("legal-basis", "", "instead of consent, the legal `BASIS` the sharing rests on: "+legalBases.list())
	profile := fs.Int("profile", 0, "the `VERSION` of the programme's data profile (passage handover profiles); required")
	pos, given, err := c.groupParse("handover", fs, o, args, 1, "propose takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId, req.ToMission, req.ProfileVersion = pos[0], strings.ToUpper(strings.TrimSpace(*to)), int32(*profile)
	if req.Programme, err = parseEnum[commonv1.Programme](programmes, *programme); err != nil {
		return fmt.Errorf("--programme %w", err)
	}
	if req.Parts, err = parseEnums[handoverv1.HandoverPart](handoverParts, "part", parts); err != nil {
		return err
	}
	if req.Purpose, err = parseEnum[handoverv1.HandoverPurpose](handoverPurposes, *purpose); err != nil {
		return fmt.Errorf("--purpose %w", err)
	}
	switch {
	case given["consent"] == given["legal-basis"]:
		return errors.New("give either --consent CONSENT_ID or --legal-basis B")
	case given["legal-basis"]:
		if req.LegalBasis, err = parseEnum[commonv1.LegalBasis](legalBases, *basis); err != nil {
			return fmt.Errorf("--legal-basis %w", err)
		}
	}
	if req.ProfileVersion <= 0 {
		return errors.New("--profile is required: the data profile version (passage handover profiles)")
	}
	return handoverMutation(ctx, c, o, "ProposeHandover", req, func(id string) { req.RequestId = id },
		handoverv1.HandoverServiceClient.ProposeHandover, handoverOf)
}

func (c *client) handoverWithdraw(ctx context.Context, args []string) error {
	req := &handoverv1.WithdrawHandoverRequest{}
	return handoverMove(ctx, c, args, "withdraw", "withdraw HANDOVER_ID --version N", req,
		moveFields{&req.HandoverId, &req.RequestId, &req.Version}, "WithdrawHandover", handoverv1.HandoverServiceClient.WithdrawHandover, nil)
}

func (c *client) handoverAccept(ctx context.Context, args []string) error {
	req := &handoverv1.AcceptHandoverRequest{}
	return handoverMove(ctx, c, args, "accept", "accept HANDOVER_ID --version N", req,
		moveFields{&req.HandoverId, &req.RequestId, &req.Version}, "AcceptHandover", handoverv1.HandoverServiceClient.AcceptHandover, nil)
}

func (c *client) handoverDecline(ctx context.Context, args []string) error {
	req := &handoverv1.DeclineHandoverRequest{}
	return handoverMove(ctx, c, args, "decline", "decline HANDOVER_ID --version N --reason R", req,
		moveFields{&req.HandoverId, &req.RequestId, &req.Version}, "DeclineHandover", handoverv1.HandoverServiceClient.DeclineHandover,
		func(fs *flag.FlagSet) func() error {
			reason := fs.String("reason", "", "why, `REASON`: "+handoverDeclines.list())
			return func() (err error) {
				if req.Reason, err = parseEnum[handoverv1.HandoverDeclineReason](handoverDeclines, *reason); err != nil {
					return fmt.Errorf("--reason %w", err)
				}
				return nil
			}
		})
}

func (c *client) handoverComplete(ctx context.Context, args []string) error {
	req := &handoverv1.CompleteHandoverRequest{}
	return handoverMove(ctx, c, args, "complete", "complete HANDOVER_ID --version N", req,
		moveFields{&req.HandoverId, &req.RequestId, &req.Version}, "CompleteHandover", handoverv1.HandoverServiceClient.CompleteHandover, nil)
}

func (c *client) handoverGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("handover", "get", "get HANDOVER_ID", nil)
	pos, _, err := c.groupParse("handover", fs, o, args, 1, "get takes one HANDOVER_ID")
	if err != nil {
		return err
	}
	return unaryOn(ctx, &c.cli, o, c.handover, "GetHandover", "", handoverv1.HandoverServiceClient.GetHandover,
		&handoverv1.GetHandoverRequest{HandoverId: pos[0]}, handoverOf)
}

// handoverList lists the mission's hand-overs. Alike in shape to `referral list` (a direction
// and a status filter, pages followed with --all), it names another service's request and enums.
func (c *client) handoverList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("handover", "list", "list [--direction D] [--status S] [--all]", nil)
	direction := fs.String("direction", "", "only this `DIRECTION`: "+handoverDirections.list())
	st := fs.String("status", "", "only this `STATUS`: "+handoverStatuses.list())
	req := &handoverv1.ListHandoversRequest{}
	fs.StringVar(&req.PageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("handover", fs, o, args, 0, "list takes no arguments besides flags"); err != nil {
		return err
	}
	if *all {
		req.PageSize = 100
	}
	var err error
	if *direction != "" {
		if req.Direction, err = parseEnum[handoverv1.HandoverDirection](handoverDirections, *direction); err != nil {
			return fmt.Errorf("--direction %w", err)
		}
	}
	if *st != "" {
		if req.Status, err = parseEnum[handoverv1.HandoverStatus](handoverStatuses, *st); err != nil {
			return fmt.Errorf("--status %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.handover, "ListHandovers", "hand-overs", *all,
		handoverv1.HandoverServiceClient.ListHandovers, req, func(t string) { req.PageToken = t },
		func(r *handoverv1.ListHandoversResponse) ([]*handoverv1.Handover, string) {
			return r.GetHandovers(), r.GetNextPageToken()
		},
		func(hs []*handoverv1.Handover) proto.Message { return &handoverv1.ListHandoversResponse{Handovers: hs} },
		formatHandovers)
}

func (c *client) handoverProfiles(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("handover", "profiles", "profiles [--programme P]", nil)
	programme := fs.String("programme", "", "only this `PROGRAMME`'s versions: "+programmes.list())
	if _, _, err := c.groupParse("handover", fs, o, args, 0, "profiles takes no arguments besides flags"); err != nil {
		return err
	}
	req := &handoverv1.ListHandoverProfilesRequest{}
	if *programme != "" {
		var err error
		if req.Programme, err = parseEnum[commonv1.Programme](programmes, *programme); err != nil {
			return fmt.Errorf("--programme %w", err)
		}
	}
	return unaryOn(ctx, &c.cli, o, c.handover, "ListHandoverProfiles", "", handoverv1.HandoverServiceClient.ListHandoverProfiles, req,
		func(w io.Writer, resp *handoverv1.ListHandoverProfilesResponse) error {
			return formatHandoverProfiles(w, resp.GetProfiles())
		})
}

// handoverProfile runs `passage handover profile publish`.
func (c *client) handoverProfile(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "publish" {
		return &usageError{command: "handover profile", err: errors.New("the command is: profile publish --programme P --field F...")}
	}
	req := &handoverv1.PublishHandoverProfileRequest{}
	fs, o := c.groupFlagSet("handover", "profile publish", "profile publish --programme P --field F...", &req.RequestId)
	programme := fs.String("programme", "", "the `PROGRAMME`: "+programmes.list())
	var fields stringList
	fs.Var(&fields, "field", "a `FIELD` the receiving mission may see, repeatable: "+handoverFields.list())
	if _, _, err := c.groupParse("handover", fs, o, args[1:], 0, "profile publish takes no arguments besides flags"); err != nil {
		return err
	}
	var err error
	if req.Programme, err = parseEnum[commonv1.Programme](programmes, *programme); err != nil {
		return fmt.Errorf("--programme %w", err)
	}
	if req.Fields, err = parseEnums[handoverv1.HandoverField](handoverFields, "field", fields); err != nil {
		return err
	}
	return handoverMutation(ctx, c, o, "PublishHandoverProfile", req, func(id string) { req.RequestId = id },
		handoverv1.HandoverServiceClient.PublishHandoverProfile, func(w io.Writer, resp *handoverv1.PublishHandoverProfileResponse) error {
			return formatHandoverProfiles(w, []*handoverv1.HandoverProfile{resp.GetProfile()})
		})
}

// Output.

func formatHandover(w io.Writer, h *handoverv1.Handover) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	field("handover", h.GetHandoverId())
	field("status", fmt.Sprintf("%s (version %d)", label(h.GetStatus()), h.GetVersion()))
	field("case", fmt.Sprintf("%s (subject %s)", h.GetCaseId(), h.GetSubjectId()))
	field("programme", label(h.GetProgramme()))
	field("from", h.GetFromMission())
	field("to", h.GetToMission())
	parts := make([]string, len(h.GetParts()))
	for i, p := range h.GetParts() {
		parts[i] = label(p)
	}
	field("parts", strings.Join(parts, ", "))
	field("purpose", label(h.GetPurpose()))
	if h.GetConsentId() != "" {
		field("consent", h.GetConsentId())
	} else {
		field("legal basis", label(h.GetLegalBasis()))
	}
	field("data profile", fmt.Sprintf("version %d", h.GetProfileVersion()))
	if h.GetDeclineReason() != 0 {
		field("declined for", label(h.GetDeclineReason()))
	}
	field("proposed", fmt.Sprintf("%s by %s", when(h.GetCreateTime()), h.GetProposedBy()))
	field("updated", when(h.GetUpdateTime()))
	return tw.Flush()
}

func formatHandovers(w io.Writer, hs []*handoverv1.Handover) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HANDOVER\tSTATUS\tFROM\tTO\tPROGRAMME\tCASE\tVERSION\tUPDATED")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", h.GetHandoverId(), label(h.GetStatus()), h.GetFromMission(),
			h.GetToMission(), label(h.GetProgramme()), h.GetCaseId(), h.GetVersion(), when(h.GetUpdateTime()))
	}
	return tw.Flush()
}

func formatHandoverProfiles(w io.Writer, ps []*handoverv1.HandoverProfile) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAMME\tVERSION\tFIELDS\tPUBLISHED")
	for _, p := range ps {
		fields := make([]string, len(p.GetFields()))
		for i, f := range p.GetFields() {
			fields[i] = enumName(f)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", label(p.GetProgramme()), p.GetVersion(), strings.Join(fields, ", "), when(p.GetPublishTime()))
	}
	return tw.Flush()
}
