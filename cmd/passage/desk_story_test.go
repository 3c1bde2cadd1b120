package main

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/subjectaccess"
	"github.com/passage-cm/passage/internal/testserver"
)

// desk runs the passage command line against one server as one member of staff: every call
// carries the server's address and that person's token, as a caseworker's shell would.
type desk struct {
	t     *testing.T
	addr  string
	token string
}

// as is the command line of the staff member subject, of role in mission.
func as(t *testing.T, env *testserver.Env, subject string, role auth.Role, mission string) desk {
	return desk{t: t, addr: env.Addr, token: env.StaffToken(t, subject, role, mission)}
}

// run runs one command and returns its standard output and error and its exit status.
func (d desk) run(args ...string) (string, string, int) {
	d.t.Helper()
	var stdout, stderr bytes.Buffer
	full := append(append([]string{}, args...), "--addr", d.addr, "--token", d.token)
	code := run(d.t.Context(), full, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// ok runs a command that must succeed and returns what it printed.
func (d desk) ok(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.run(args...)
	if code != 0 {
		d.t.Fatalf("passage %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// refused runs a command that must fail with the gRPC code want, and returns what it printed
// on its standard error.
func (d desk) refused(want string, args ...string) string {
	d.t.Helper()
	out, errOut, code := d.run(args...)
	if code == 0 || !strings.Contains(errOut, want) {
		d.t.Fatalf("passage %s: exit %d, want a refusal %s\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return errOut
}

// readBundle reads every entry of a subject access bundle (a tar) into memory, by name.
func readBundle(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatal(err)
		}
		if entries[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonField is the string at path (dot separated) in the protobuf JSON a --json command printed.
func jsonField(t *testing.T, out string, path ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %s in %s", strings.Join(path, "."), out)
		}
		v = m[p]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s is not a string in %s", strings.Join(path, "."), out)
	}
	return s
}

// The caseworker's desk, issue 18's story, end to end through the command line against a
// server running every service as `passage serve` does: a woman registered in Niger last
// year comes back to the counter; the caseworker finds her by a misspelt name and the month
// she was born, reads what happened to her case, writes what was said in counselling and
// attaches her scanned passport; a colleague who does not work on her case is refused both;
// the supervisor learns she is also known to the mission in Morocco (its programme and
// status, never her identity); and at her request the operator exports everything Passage
// holds about her (one audited bundle) and then she is erased, after which neither note nor
// document can be read and a dump of the database holds none of their text or bytes.
func TestCaseworkersDeskStory(t *testing.T) {
	env := testserver.Start(t, testserver.Options{Services: services(), TCP: true})
	fatou := as(t, env, "staff-ner-fatou", auth.RoleCaseworker, "NER")
	issa := as(t, env, "staff-ner-issa", auth.RoleCaseworker, "NER")
	chief := as(t, env, "staff-ner-chief", auth.RoleSupervisor, "NER")
	rabat := as(t, env, "staff-mar-youssef", auth.RoleCaseworker, "MAR")

	// Last year: registered in Niger by Fatou, and in Morocco, where she was stranded before.
	registered := fatou.ok("case", "register", "--json", "--mission", "NER", "--programme", "avrr",
		"--given-name", "Aïcha", "--family-name", "Traoré", "--dob", "1994-03-15", "--sex", "female",
		"--nationality", "MLI", "--host-country", "NER", "--document", "passport:MLI:AA1234567",
		"--registration-date", "2025-11-20")
	caseID := jsonField(t, registered, "case", "caseId")
	rabat.ok("case", "register", "--mission", "MAR", "--programme", "hasm",
		"--given-name", "Aïcha", "--family-name", "Traoré", "--dob", "1994-03-15", "--sex", "female",
		"--nationality", "MLI", "--host-country", "MAR", "--document", "passport:MLI:AA1234567",
		"--registration-date", "2025-06-02")

	// She comes back. "Aisha Traore, born in March 1994": found, with her name, since Fatou
	// works on her case; the search is audited with its purpose.
	found := fatou.ok("search", "--name", "Aisha,Traore", "--dob", "1994-03", "--purpose", "case_management")
	if !strings.Contains(found, caseID) || !strings.Contains(found, "Aïcha Traoré") {
		t.Fatalf("search by a misspelt name and a partial date of birth:\n%s", found)
	}
	history := fatou.ok("case", "history", caseID)
	if !strings.Contains(history, "CaseRegistered") || !strings.Contains(history, "staff-ner-fatou") {
		t.Fatalf("case history:\n%s", history)
	}

	// Counselling, and her passport.
	const said = "Counselled at the Niamey counter: wishes to return to Ségou with her daughter."
	noteID := jsonField(t, fatou.ok("note", "add", caseID, "--text", said, "--json"), "note", "noteId")
	passport := []byte("%PDF-1.4\n% scanned passport of the person, page 1: MRZ P<MLITRAORE<<AICHA\n%%EOF\n")
	dir := t.TempDir()
	scan := filepath.Join(dir, "passport.pdf")
	if err := os.WriteFile(scan, passport, 0o600); err != nil {
		t.Fatal(err)
	}
	docID := jsonField(t, fatou.ok("document", "upload", caseID, "--file", scan, "--kind", "passport_scan", "--json"),
		"document", "documentId")
	if got := fatou.ok("note", "get", noteID, "--purpose", "case_management"); !strings.Contains(got, said) {
		t.Fatalf("note get by its author:\n%s", got)
	}
	back := filepath.Join(dir, "back.pdf")
	fatou.ok("document", "download", docID, "--out", back, "--purpose", "case_management")
	if b, err := os.ReadFile(back); err != nil || !bytes.Equal(b, passport) {
		t.Fatalf("downloaded passport differs (%v)", err)
	}

	// Issa, at the next desk, does not work on her case: refused both, and told nothing of them.
	for _, errOut := range []string{
		issa.refused("PermissionDenied", "note", "get", noteID, "--purpose", "case_management"),
		issa.refused("PermissionDenied", "document", "download", docID, "--out", filepath.Join(dir, "issa.pdf"), "--purpose", "case_management"),
	} {
		if strings.Contains(errOut, "Counselled") || strings.Contains(errOut, "Traor") {
			t.Fatalf("a refusal quotes the record:\n%s", errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "issa.pdf")); !os.IsNotExist(err) {
		t.Fatalf("a refused download left a file (%v)", err)
	}

	// The supervisor asks whether she is known elsewhere: Morocco, a HASM case, no identity.
	elsewhere := chief.ok("search", "elsewhere", "--document", "passport:MLI:AA1234567", "--purpose", "case_management")
	if !strings.Contains(elsewhere, "MAR") || !strings.Contains(elsewhere, "hasm") || strings.Contains(elsewhere, "Traor") {
		t.Fatalf("search elsewhere:\n%s", elsewhere)
	}

	// She asks for everything Passage holds about her: the operator's export, one audited
	// bundle with her identity, the case, the note and the passport's bytes.
	t.Setenv("DATABASE_URL", env.AdminURL)
	t.Setenv("PASSAGE_DEV_DIR", filepath.Dir(env.KeyFiles.KEK.Path))
	t.Setenv("PASSAGE_KEK_URI", "")
	bundle := filepath.Join(dir, "aicha.tar")
	subject := jsonField(t, registered, "case", "subjectId")
	var exportOut, exportErr bytes.Buffer
	if code := run(t.Context(), []string{"export", "--dev", "--mission", "NER", "--subject", subject, "--by", "staff-ner-dpo",
		"--request", "DSR-2026-044", "--out", bundle}, &exportOut, &exportErr); code != 0 || strings.Contains(exportOut.String(), "Traor") {
		t.Fatalf("export: exit %d\n%s%s", code, exportOut.String(), exportErr.String())
	}
	entries := readBundle(t, bundle)
	record := string(entries[subjectaccess.RecordEntry])
	for _, want := range []string{"Aïcha", "Traoré", caseID, said} {
		if !strings.Contains(record, want) {
			t.Errorf("the bundle's record lacks %q", want)
		}
	}
	var scanned bool
	for name, b := range entries {
		scanned = scanned || (strings.HasPrefix(name, "documents/"+docID+"/") && bytes.Equal(b, passport))
	}
	if !scanned || entries[subjectaccess.ManifestEntry] == nil {
		t.Errorf("the bundle lacks the passport's bytes or its manifest: %d entries", len(entries))
	}
	if recs := env.AuditRecords(t, subjectaccess.Method); len(recs) != 1 || recs[0].RequestID != "DSR-2026-044" {
		t.Errorf("the export's audit records = %+v", recs)
	}

	// Then she asks to be erased: the supervisor erases her; nothing of the note or the
	// passport can be read any more, by anyone.
	chief.ok("case", "erase", caseID, "--reason", "data_subject_request")
	// The note is still there, as erased: its text is gone; so is the passport.
	if out := fatou.ok("note", "get", noteID, "--purpose", "case_management"); strings.Contains(out, "Counselled") || !strings.Contains(out, "can no longer be read") {
		t.Fatalf("the note after erasure:\n%s", out)
	}
	gone := filepath.Join(dir, "after.pdf")
	if errOut := fatou.refused("FailedPrecondition", "document", "download", docID, "--out", gone, "--purpose", "case_management"); !strings.Contains(errOut, "erased") {
		t.Fatalf("the passport after erasure:\n%s", errOut)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Fatalf("a refused download left a file (%v)", err)
	}
	// Nor did either ever reach the logs or the traces, in clear or hex-encoded; the database,
	// analytics' tables and the webhook deliveries included, holds none of it either.
	dump, logs, spans := env.Dump(t), env.Logs.String(), testserver.SpanText()
	if !strings.Contains(spans, "DocumentService/UploadDocument") || !strings.Contains(logs, "CaseNoteService/AddCaseNote") || !strings.Contains(dump, noteID) {
		t.Fatal("the spans, logs or dump hold none of the story's calls: the scan would prove nothing")
	}
	for _, planted := range []string{"Counselled at the Niamey counter", "Ségou", "MRZ P<MLITRAORE"} {
		for _, form := range []string{planted, hex.EncodeToString([]byte(planted))} {
			for where, text := range map[string]string{"the database dump": dump, "the logs": logs, "the spans": spans} {
				if strings.Contains(text, form) {
					t.Errorf("%s holds %q after erasure", where, planted)
				}
			}
		}
	}
}
