package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
)

const staffUsage = `usage: passage staff <command> [arguments]

commands:
  list [--mission M] [--role R] [--inactive] [--all]   a mission's team (supervisors: their own; administrators: any)
  get STAFF_ID                                         one member of the staff directory
  provision STAFF_ID --mission M --role R [--name N] [--version N]
                                                       add a member before their first sign-in, or (with the
                                                       version you read) change their mission, role or name (administrators)
  deactivate STAFF_ID --version N                      a leaver: refused on every call at once, their cases unassigned (administrators)
  reactivate STAFF_ID --version N                      active again; their assignments do not come back (administrators)

A STAFF_ID is the pseudonymous id tokens carry as their subject, never a name nor an e-mail
address. Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the
--tls-* flags, --json and --timeout. "passage staff <command> -h" lists a command's flags.
`

// runStaff runs `passage staff <command>`: the client of the StaffService.
func runStaff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).staffRun(ctx, args)
}

// staffRun dispatches the group's commands.
func (c *client) staffRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "staff", staffUsage, args, c.stdout, c.stderr, commands{
		"list":       c.staffList,
		"get":        c.staffGet,
		"provision":  c.staffProvision,
		"deactivate": c.staffDeactivate,
		"reactivate": c.staffReactivate,
	})
}

func memberOf[R interface{ GetMember() *staffv1.StaffMember }](w io.Writer, resp R) error {
	return formatMembers(w, []*staffv1.StaffMember{resp.GetMember()})
}

func (c *client) staffList(ctx context.Context, args []string) error {
	req := &staffv1.ListStaffRequest{}
	fs, o := c.groupFlagSet("staff", "list", "list [--mission M] [--role R] [--inactive] [--all]", nil)
	fs.StringVar(&req.Mission, "mission", "", "the `MISSION` whose team to list (default: yours)")
	fs.StringVar(&req.Role, "role", "", "only members of `ROLE`")
	fs.BoolVar(&req.IncludeInactive, "inactive", false, "list deactivated members too")
	fs.StringVar(&req.PageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	if _, _, err := c.groupParse("staff", fs, o, args, 0, "list takes no arguments"); err != nil {
		return err
	}
	client, done, err := c.staff(*o)
	if err != nil {
		return err
	}
	defer done()
	members, err := listPages(ctx, o, c.stderr, "ListStaff", "members", *all, c.failed, client.ListStaff, req,
		func(t string) { req.PageToken = t },
		func(r *staffv1.ListStaffResponse) ([]*staffv1.StaffMember, string) {
			return r.GetMembers(), r.GetNextPageToken()
		})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(c.stdout, &staffv1.ListStaffResponse{Members: members})
	}
	if len(members) == 0 {
		fmt.Fprintln(c.stderr, "no members")
		return nil
	}
	return formatMembers(c.stdout, members)
}

func (c *client) staffGet(ctx context.Context, args []string) error {
	req := &staffv1.GetStaffRequest{}
	fs, o := c.groupFlagSet("staff", "get", "get STAFF_ID", nil)
	pos, _, err := c.groupParse("staff", fs, o, args, 1, "get takes one STAFF_ID")
	if err != nil {
		return err
	}
	req.StaffId = pos[0]
	return unaryOn(ctx, &c.cli, o, c.staff, "GetStaff", "", staffv1.StaffServiceClient.GetStaff, req, memberOf)
}

func (c *client) staffProvision(ctx context.Context, args []string) error {
	req := &staffv1.ProvisionStaffRequest{}
	fs, o := c.groupFlagSet("staff", "provision", "provision STAFF_ID --mission M --role R [--name N] [--version N]", &req.RequestId)
	fs.StringVar(&req.Mission, "mission", "", "the member's `MISSION` (required)")
	fs.StringVar(&req.Role, "role", "", "the member's `ROLE`: caseworker, supervisor, programme_manager, analyst or admin (required)")
	fs.StringVar(&req.DisplayName, "name", "", "the member's own `NAME` for team lists")
	fs.Int64Var(&req.Version, "version", 0, "the version you read, to change an existing member (passage staff get)")
	pos, _, err := c.groupParse("staff", fs, o, args, 1, "provision takes one STAFF_ID")
	if err != nil {
		return err
	}
	req.StaffId = pos[0]
	if req.Mission == "" || req.Role == "" {
		return fmt.Errorf("provision needs --mission and --role")
	}
	return mutationOn(ctx, &c.cli, o, c.staff, "ProvisionStaff", req, func(id string) { req.RequestId = id },
		staffv1.StaffServiceClient.ProvisionStaff, memberOf)
}

// staffVersioned parses "COMMAND STAFF_ID --version N", binding --request-id to requestID:
// a change of one member at the version the administrator read.
func (c *client) staffVersioned(command string, args []string, requestID *string) (staffID string, version int64, o *clientOptions, err error) {
	fs, o := c.groupFlagSet("staff", command, command+" STAFF_ID --version N", requestID)
	fs.Int64Var(&version, "version", 0, "the version you read (passage staff get); required")
	pos, _, err := c.groupParse("staff", fs, o, args, 1, command+" takes one STAFF_ID")
	if err != nil {
		return "", 0, nil, err
	}
	if version <= 0 {
		return "", 0, nil, fmt.Errorf("--version is required: the version you read (passage staff get)")
	}
	return pos[0], version, o, nil
}

func (c *client) staffDeactivate(ctx context.Context, args []string) error {
	req := &staffv1.DeactivateStaffRequest{}
	var err error
	var o *clientOptions
	if req.StaffId, req.Version, o, err = c.staffVersioned("deactivate", args, &req.RequestId); err != nil {
		return err
	}
	return mutationOn(ctx, &c.cli, o, c.staff, "DeactivateStaff", req, func(id string) { req.RequestId = id },
		staffv1.StaffServiceClient.DeactivateStaff, func(w io.Writer, r *staffv1.DeactivateStaffResponse) error {
			if err := memberOf(w, r); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "%d cases unassigned\n", r.GetUnassignedCases())
			return err
		})
}

func (c *client) staffReactivate(ctx context.Context, args []string) error {
	req := &staffv1.ReactivateStaffRequest{}
	var err error
	var o *clientOptions
	if req.StaffId, req.Version, o, err = c.staffVersioned("reactivate", args, &req.RequestId); err != nil {
		return err
	}
	return mutationOn(ctx, &c.cli, o, c.staff, "ReactivateStaff", req, func(id string) { req.RequestId = id },
		staffv1.StaffServiceClient.ReactivateStaff, memberOf)
}

// formatMembers prints members one a line: id, mission, role, state, version, name.
func formatMembers(w io.Writer, members []*staffv1.StaffMember) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAFF ID\tMISSION\tROLE\tSTATE\tVERSION\tLAST SEEN\tNAME")
	for _, m := range members {
		state := "active"
		if !m.GetActive() {
			state = "inactive since " + when(m.GetDeactivateTime())
		}
		seen := "-"
		if m.GetLastSeenTime() != nil {
			seen = when(m.GetLastSeenTime())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.GetStaffId(), m.GetMission(), m.GetRole(), state, m.GetVersion(), seen, m.GetDisplayName())
	}
	return tw.Flush()
}
