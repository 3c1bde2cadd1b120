package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The supervisor's commands: who works on a case, and emergency access to one.

var findings = newEnumNames(intakev1.BreakGlassFinding_value)

// caseAndStaff parses "CASE_ID STAFF_ID" and the request id flag of assign and unassign.
func (c *client) caseCaseAndStaff(name string, args []string) (caseID, staffID, requestID string, o *clientOptions, err error) {
	fs, o := c.groupFlagSet("case", name, name+" CASE_ID STAFF_ID", nil)
	rid := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return "", "", "", nil, err
	}
	if len(pos) != 2 {
		return "", "", "", nil, fmt.Errorf("case %s takes CASE_ID and STAFF_ID", name)
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return "", "", "", nil, err
	}
	if *rid == "" {
		*rid = c.newRequestID()
	}
	c.announceRequestID(*rid)
	return pos[0], pos[1], *rid, o, nil
}

func (c *client) caseAssign(ctx context.Context, args []string) error {
	caseID, staffID, rid, o, err := c.caseCaseAndStaff("assign", args)
	if err != nil {
		return err
	}
	req := &intakev1.AssignCaseRequest{RequestId: rid, CaseId: caseID, StaffId: staffID}
	return unary(ctx, c, o, "AssignCase", rid, intakev1.IntakeServiceClient.AssignCase, req,
		func(w io.Writer, resp *intakev1.AssignCaseResponse) error {
			a := resp.GetAssignment()
			_, err := fmt.Fprintf(w, "%s works on case %s (assigned by %s, %s)\n", a.GetStaffId(), a.GetCaseId(), a.GetAssignedBy(), when(a.GetAssignTime()))
			return err
		})
}

func (c *client) caseUnassign(ctx context.Context, args []string) error {
	caseID, staffID, rid, o, err := c.caseCaseAndStaff("unassign", args)
	if err != nil {
		return err
	}
	req := &intakev1.UnassignCaseRequest{RequestId: rid, CaseId: caseID, StaffId: staffID}
	return unary(ctx, c, o, "UnassignCase", rid, intakev1.IntakeServiceClient.UnassignCase, req,
		func(w io.Writer, resp *intakev1.UnassignCaseResponse) error {
			_, err := fmt.Fprintf(w, "%s no longer works on case %s\n", resp.GetStaffId(), resp.GetCaseId())
			return err
		})
}

func (c *client) caseBreakGlass(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "break-glass", "break-glass CASE_ID --reason TEXT [--for DURATION]", nil)
	reason := fs.String("reason", "", "why you need the identity now (at least 20 characters; kept only as a keyed digest)")
	life := fs.Duration("for", 0, "how long the grant lives, at most 1h (default 30m)")
	rid := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case break-glass takes one CASE_ID")
	}
	if *reason == "" {
		return errors.New("case break-glass needs --reason")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	if *rid == "" {
		*rid = c.newRequestID()
	}
	c.announceRequestID(*rid)
	req := &intakev1.BreakGlassRequest{RequestId: *rid, CaseId: pos[0], Reason: *reason}
	if *life != 0 {
		req.Duration = durationpb.New(*life)
	}
	return unary(ctx, c, o, "BreakGlass", *rid, intakev1.IntakeServiceClient.BreakGlass, req,
		func(w io.Writer, resp *intakev1.BreakGlassResponse) error {
			g := resp.GetGrant()
			_, err := fmt.Fprintf(w, "grant %s on case %s until %s; read it with: passage case get %s --full --purpose break_glass\n"+
				"the grant is flagged for review\n", g.GetGrantId(), g.GetCaseId(), when(g.GetExpireTime()), g.GetCaseId())
			return err
		})
}

func (c *client) caseGrants(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "grants", "grants [--unreviewed] [--page-token T]", nil)
	unreviewed := fs.Bool("unreviewed", false, "only the grants awaiting review")
	page := fs.String("page-token", "", "the next page, from a previous listing")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("case grants takes no arguments besides flags")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req := &intakev1.ListBreakGlassGrantsRequest{UnreviewedOnly: *unreviewed, PageToken: *page}
	return unary(ctx, c, o, "ListBreakGlassGrants", "", intakev1.IntakeServiceClient.ListBreakGlassGrants, req, formatGrants)
}

func (c *client) caseReview(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "review", "review GRANT_ID --finding F", nil)
	finding := fs.String("finding", "", "`FINDING`: "+findings.list())
	rid := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case review takes one GRANT_ID")
	}
	f, err := parseEnum[intakev1.BreakGlassFinding](findings, *finding)
	if err != nil {
		return fmt.Errorf("--finding: %w", err)
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	if *rid == "" {
		*rid = c.newRequestID()
	}
	c.announceRequestID(*rid)
	req := &intakev1.ReviewBreakGlassRequest{RequestId: *rid, GrantId: pos[0], Finding: f}
	return unary(ctx, c, o, "ReviewBreakGlass", *rid, intakev1.IntakeServiceClient.ReviewBreakGlass, req,
		func(w io.Writer, resp *intakev1.ReviewBreakGlassResponse) error {
			return formatGrants(w, &intakev1.ListBreakGlassGrantsResponse{Grants: []*intakev1.BreakGlassGrant{resp.GetGrant()}})
		})
}

// formatGrants prints one grant a line.
func formatGrants(w io.Writer, resp *intakev1.ListBreakGlassGrantsResponse) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GRANT\tCASE\tGRANTEE\tFROM\tUNTIL\tREVIEW")
	for _, g := range resp.GetGrants() {
		review := "awaiting review"
		if r := g.GetReview(); r != nil {
			review = fmt.Sprintf("%s by %s, %s", enumcode.Code(r.GetFinding()), r.GetReviewer(), when(r.GetReviewTime()))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.GetGrantId(), g.GetCaseId(), g.GetGrantee(),
			when(g.GetCreateTime()), when(g.GetExpireTime()), review)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if tok := resp.GetNextPageToken(); tok != "" {
		_, err := fmt.Fprintf(w, "more: passage case grants --page-token %s\n", tok)
		return err
	}
	return nil
}

func when(t *timestamppb.Timestamp) string {
	return t.AsTime().UTC().Format(time.DateTime + " UTC")
}
