package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

const noteUsage = `usage: passage note <command> [arguments]

commands (caseworkers and supervisors working on the case):
  add CASE_ID (--text T | --text-file F) [--subject ID] [--sensitivity S]
                                                 write a note on a case (about its principal unless --subject)
  edit NOTE_ID --version N [--text T | --text-file F] [--sensitivity S]
                                                 new text, a new sensitivity, or both; earlier versions are kept
  get NOTE_ID --purpose P [--history]            read a note (audited), with every version on --history
  list CASE_ID --purpose P [--all]               the case's notes you may read, newest first (audited)

Sensitivities: normal (everyone working on the case), restricted (assigned staff and
supervisors), confidential (supervisors only). A note's text is personal data: it is sealed
with the key of the person it is about, and unreadable once they are erased.

Every command takes --addr (PASSAGE_ADDR), --token (PASSAGE_TOKEN), --insecure, the --tls-*
flags, --json and --timeout. "passage note <command> -h" lists a command's flags.
`

// runNote runs `passage note <command>`: the client of the CaseNoteService.
func runNote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).noteRun(ctx, args)
}

var sensitivities = newEnumNames(casenotev1.Sensitivity_value)

// noteRun dispatches the group's commands.
func (c *client) noteRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "note", noteUsage, args, c.stdout, c.stderr, commands{
		"add":  c.noteAdd,
		"edit": c.noteEdit,
		"get":  c.noteGet,
		"list": c.noteList,
	})
}

// noteMutation fills in a request id, announces it and makes the call.
func noteMutation[Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method string, req Req, setID func(string),
	rpc func(casenotev1.CaseNoteServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	return mutationOn(ctx, &c.cli, o, c.casenote, method, req, setID, rpc, human)
}

func noteOf[R interface{ GetNote() *casenotev1.CaseNote }](w io.Writer, resp R) error {
	return formatNote(w, resp.GetNote())
}

// textFlags are a note's text, given inline or read from a file ("-": standard input).
type textFlags struct{ text, file string }

func (f *textFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.text, "text", "", "the note's `TEXT`")
	fs.StringVar(&f.file, "text-file", "", "read the note's text from `FILE` (- for standard input)")
}

// read returns the text given, "" when neither flag was (required: an error then).
func (f *textFlags) read(c *cli, required bool) (string, error) {
	switch {
	case f.text != "" && f.file != "":
		return "", errors.New("give --text or --text-file, not both")
	case f.file == "-":
		return readText(c.stdin)
	case f.file != "":
		file, err := os.Open(f.file)
		if err != nil {
			return "", err
		}
		defer file.Close()
		return readText(file)
	case f.text == "" && required:
		return "", errors.New("--text or --text-file is required")
	}
	return f.text, nil
}

// maxNoteBytes is the server's limit on a note's text; a longer file is refused here.
const maxNoteBytes = 20000

func readText(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxNoteBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxNoteBytes {
		return "", fmt.Errorf("the text is longer than %d bytes", maxNoteBytes)
	}
	return string(b), nil
}

// notePurpose parses a required --purpose.
func notePurpose(command, s string) (commonv1.AccessPurpose, error) {
	if s == "" {
		return 0, fmt.Errorf("note %s needs --purpose: %s", command, accessPurposes.list())
	}
	p, err := parseEnum[commonv1.AccessPurpose](accessPurposes, s)
	if err != nil {
		return 0, fmt.Errorf("--purpose %w", err)
	}
	return p, nil
}

func (c *client) noteAdd(ctx context.Context, args []string) error {
	req := &casenotev1.AddCaseNoteRequest{}
	fs, o := c.groupFlagSet("note", "add", "add CASE_ID (--text T | --text-file F) [--subject ID] [--sensitivity S]", &req.RequestId)
	var text textFlags
	text.bind(fs)
	fs.StringVar(&req.SubjectId, "subject", "", "the `SUBJECT_ID` of the person of the case the note is about (default: the principal)")
	sensitivity := fs.String("sensitivity", "normal", "who may read it, `S`: "+sensitivities.list())
	pos, _, err := c.groupParse("note", fs, o, args, 1, "add takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId, req.SubjectId = pos[0], strings.TrimSpace(req.SubjectId)
	if req.Sensitivity, err = parseEnum[casenotev1.Sensitivity](sensitivities, *sensitivity); err != nil {
		return fmt.Errorf("--sensitivity %w", err)
	}
	if req.Text, err = text.read(&c.cli, true); err != nil {
		return err
	}
	return noteMutation(ctx, c, o, "AddCaseNote", req, func(id string) { req.RequestId = id },
		casenotev1.CaseNoteServiceClient.AddCaseNote, noteOf)
}

func (c *client) noteEdit(ctx context.Context, args []string) error {
	req := &casenotev1.EditCaseNoteRequest{}
	fs, o := c.groupFlagSet("note", "edit", "edit NOTE_ID --version N [--text T | --text-file F] [--sensitivity S]", &req.RequestId)
	fs.Int64Var(&req.Version, "version", 0, "the note version you read (passage note get); required")
	var text textFlags
	text.bind(fs)
	sensitivity := fs.String("sensitivity", "", "the new sensitivity `S`: "+sensitivities.list()+" (default: unchanged)")
	pos, _, err := c.groupParse("note", fs, o, args, 1, "edit takes one NOTE_ID")
	if err != nil {
		return err
	}
	req.NoteId = pos[0]
	if req.Version <= 0 {
		return errors.New("--version is required: the version you read (passage note get)")
	}
	if *sensitivity != "" {
		if req.Sensitivity, err = parseEnum[casenotev1.Sensitivity](sensitivities, *sensitivity); err != nil {
			return fmt.Errorf("--sensitivity %w", err)
		}
	}
	if req.Text, err = text.read(&c.cli, false); err != nil {
		return err
	}
	if req.Text == "" && req.Sensitivity == casenotev1.Sensitivity_SENSITIVITY_UNSPECIFIED {
		return errors.New("edit changes the text (--text, --text-file), the sensitivity (--sensitivity), or both")
	}
	return noteMutation(ctx, c, o, "EditCaseNote", req, func(id string) { req.RequestId = id },
		casenotev1.CaseNoteServiceClient.EditCaseNote, noteOf)
}

func (c *client) noteGet(ctx context.Context, args []string) error {
	req := &casenotev1.GetCaseNoteRequest{}
	fs, o := c.groupFlagSet("note", "get", "get NOTE_ID --purpose P [--history]", nil)
	purpose := fs.String("purpose", "", "why you read the note (audited): "+accessPurposes.list())
	fs.BoolVar(&req.History, "history", false, "show every version of the note")
	pos, _, err := c.groupParse("note", fs, o, args, 1, "get takes one NOTE_ID")
	if err != nil {
		return err
	}
	req.NoteId = pos[0]
	if req.Purpose, err = notePurpose("get", *purpose); err != nil {
		return err
	}
	return unaryOn(ctx, &c.cli, o, c.casenote, "GetCaseNote", "", casenotev1.CaseNoteServiceClient.GetCaseNote, req, noteOf)
}

func (c *client) noteList(ctx context.Context, args []string) error {
	req := &casenotev1.ListCaseNotesRequest{}
	fs, o := c.groupFlagSet("note", "list", "list CASE_ID --purpose P [--all]", nil)
	purpose := fs.String("purpose", "", "why you read the notes (audited): "+accessPurposes.list())
	fs.StringVar(&req.PageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	pos, _, err := c.groupParse("note", fs, o, args, 1, "list takes one CASE_ID")
	if err != nil {
		return err
	}
	req.CaseId = pos[0]
	if req.Purpose, err = notePurpose("list", *purpose); err != nil {
		return err
	}
	if *all {
		req.PageSize = 100
	}
	client, done, err := c.casenote(*o)
	if err != nil {
		return err
	}
	defer done()
	var withheld int32
	notes, err := listPages(ctx, o, c.stderr, "ListCaseNotes", "notes", *all, c.failed, client.ListCaseNotes, req,
		func(t string) { req.PageToken = t },
		func(r *casenotev1.ListCaseNotesResponse) ([]*casenotev1.CaseNote, string) {
			withheld = r.GetWithheldCount()
			return r.GetNotes(), r.GetNextPageToken()
		})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(c.stdout, &casenotev1.ListCaseNotesResponse{Notes: notes, WithheldCount: withheld})
	}
	if withheld > 0 {
		fmt.Fprintf(c.stderr, "%d notes on the case are of a sensitivity you may not read (ask a supervisor)\n", withheld)
	}
	if len(notes) == 0 {
		fmt.Fprintln(c.stderr, "no notes")
		return nil
	}
	for i, n := range notes {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		if err := formatNote(c.stdout, n); err != nil {
			return err
		}
	}
	return nil
}

// formatNote prints a note: its metadata, its text (indented), and its history when read.
func formatNote(w io.Writer, n *casenotev1.CaseNote) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "note\t%s   version %d   %s\n", n.GetNoteId(), n.GetVersion(), enumName(n.GetSensitivity()))
	fmt.Fprintf(tw, "case\t%s   mission %s   about %s\n", n.GetCaseId(), n.GetMission(), n.GetSubjectId())
	fmt.Fprintf(tw, "written\t%s by %s", when(n.GetCreateTime()), n.GetAuthor())
	if n.GetVersion() > 1 {
		fmt.Fprintf(tw, "; edited %s by %s", when(n.GetUpdateTime()), n.GetUpdatedBy())
	}
	fmt.Fprintln(tw)
	if e := n.GetErasure(); e != nil {
		fmt.Fprintf(tw, "erased\t%s, %s: the text can no longer be read\n", enumName(e.GetReason()), when(e.GetEraseTime()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n.GetText() != "" {
		fmt.Fprintln(w, indent(n.GetText()))
	}
	for _, v := range n.GetHistory() {
		fmt.Fprintf(w, "-- version %d, %s, %s by %s\n", v.GetVersion(), enumName(v.GetSensitivity()), when(v.GetWriteTime()), v.GetAuthor())
		switch {
		case v.GetWithheld():
			fmt.Fprintln(w, "   (of a sensitivity you may not read)")
		case v.GetText() != "":
			fmt.Fprintln(w, indent(v.GetText()))
		}
	}
	return nil
}

// indent indents every line of text by three spaces.
func indent(text string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n   ")
}
