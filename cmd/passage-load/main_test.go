package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	defaults := options{
		addr: "127.0.0.1:7070", token: "from-env", mission: "NER", hostCountry: "NER",
		concurrency: 32, conns: 1, household: 2, warmup: 3 * time.Second, duration: 20 * time.Second,
		callTimeout: 10 * time.Second, waitTimeout: time.Minute,
	}
	tests := []struct {
		name    string
		args    []string
		env     string
		want    func(o *options)
		wantErr string
	}{
		{name: "defaults", env: "from-env", want: func(*options) {}},
		{
			name: "everything",
			args: []string{"--addr", "127.0.0.1:7170", "--token", "flag", "--mission", "NER-AGADEZ", "--concurrency", "8",
				"--conns", "4", "--duration", "5s", "--warmup", "0s", "--requests", "100", "--household", "5", "--seed", "9",
				"--json", "--min-rate", "1500", "--max-p99", "50ms", "--wait-ready", "127.0.0.1:7180"},
			env: "from-env",
			want: func(o *options) {
				o.addr, o.token, o.mission, o.hostCountry = "127.0.0.1:7170", "flag", "NER-AGADEZ", "NER"
				o.concurrency, o.conns, o.duration, o.warmup, o.requests, o.household, o.seed = 8, 4, 5*time.Second, 0, 100, 5, 9
				o.json, o.targets, o.waitReady = true, Targets{MinRate: 1500, MaxP99: 50 * time.Millisecond}, "127.0.0.1:7180"
			},
		},
		{name: "host country", args: []string{"--host-country", "LBY"}, env: "t", want: func(o *options) { o.token, o.hostCountry = "t", "LBY" }},
		{name: "no token", wantErr: "a token is required"},
		{name: "bad mission", args: []string{"--mission", "ner"}, env: "t", wantErr: "--mission must be"},
		{name: "more conns than clients", args: []string{"--concurrency", "2", "--conns", "3"}, env: "t", wantErr: "--conns must be"},
		{name: "two servers", args: []string{"--addr", "127.0.0.1:7170,127.0.0.1:7171", "--conns", "2"}, env: "t",
			want: func(o *options) { o.token, o.addr, o.conns = "t", "127.0.0.1:7170,127.0.0.1:7171", 2 }},
		{name: "fewer conns than servers", args: []string{"--addr", "127.0.0.1:7170,127.0.0.1:7171"}, env: "t", wantErr: "--conns must be at least the number"},
		{name: "an empty server", args: []string{"--addr", "127.0.0.1:7170,", "--conns", "2"}, env: "t", wantErr: "--addr must name each server"},
		{name: "unbounded", args: []string{"--duration", "0s"}, env: "t", wantErr: "--duration must be positive"},
		{name: "huge household", args: []string{"--household", "31"}, env: "t", wantErr: "--household must be"},
		{name: "stray argument", args: []string{"now"}, env: "t", wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(name string) string {
				if name == "PASSAGE_TOKEN" {
					return tt.env
				}
				return ""
			}
			got, err := parseFlags(tt.args, getenv, io.Discard)
			if tt.wantErr != "" {
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) = %v, want a usage error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			want := defaults
			tt.want(&want)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(options{})); diff != "" {
				t.Errorf("parseFlags(%q) (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	answer := func(caseID, subjectID string, dups ...*intakev1.SuspectedDuplicate) *intakev1.RegisterCaseResponse {
		return &intakev1.RegisterCaseResponse{
			Case:                &intakev1.Case{CaseId: caseID, SubjectId: subjectID},
			SuspectedDuplicates: dups,
		}
	}
	byDocument := []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY, intakev1.MatchBasis_MATCH_BASIS_DOCUMENT}
	byName := []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY}
	tests := []struct {
		name string
		call Call
		resp *intakev1.RegisterCaseResponse
		want error
	}{
		{"new", Call{Kind: KindNew}, answer("c2", "s2"), nil},
		{"replay of the first case", Call{Kind: KindReplay, Earlier: "c1"}, answer("c1", "s1"), nil},
		{"replay that made a new case", Call{Kind: KindReplay, Earlier: "c1"}, answer("c2", "s2"), errWrongReplay},
		{
			"re-registration flagged", Call{Kind: KindReregister, Earlier: "c1"},
			answer("c2", "s2", &intakev1.SuspectedDuplicate{CaseId: "c0", MatchedSubjectId: "s2", MatchedOn: byDocument},
				&intakev1.SuspectedDuplicate{CaseId: "c1", SubjectId: "s1", MatchedSubjectId: "s2", MatchedOn: byDocument}),
			nil,
		},
		{"re-registration not flagged", Call{Kind: KindReregister, Earlier: "c1"}, answer("c2", "s2"), errUnflagged},
		{
			"re-registration matched on the name only", Call{Kind: KindReregister, Earlier: "c1"},
			answer("c2", "s2", &intakev1.SuspectedDuplicate{CaseId: "c1", MatchedSubjectId: "s2", MatchedOn: byName}),
			errUnflagged,
		},
		{
			"re-registration matched through a household member", Call{Kind: KindReregister, Earlier: "c1"},
			answer("c2", "s2", &intakev1.SuspectedDuplicate{CaseId: "c1", MatchedSubjectId: "s3", MatchedOn: byDocument}),
			errUnflagged,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Check(tt.call, tt.resp); !errors.Is(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCPUModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cpuinfo, want string
	}{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13"},
		{"raspberry pi", "processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"},
		{"hardware only", "processor\t: 0\nHardware\t: Generic DT based system\n", "Generic DT based system"},
		{"empty model name", "model name\t:\n", ""},
		{"nothing", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := cpuModel(strings.NewReader(tt.cpuinfo)); got != tt.want {
				t.Errorf("cpuModel = %q, want %q", got, tt.want)
			}
		})
	}
}
