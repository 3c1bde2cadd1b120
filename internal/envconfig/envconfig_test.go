package envconfig

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Cert string `env:"T_CERT" help:"the certificate"`
}

type sample struct {
	Addr    string        `env:"T_ADDR" default:"127.0.0.1:1" help:"where it listens, {off} for nowhere"`
	On      bool          `env:"T_ON" default:"true" help:"on or off"`
	N       int           `env:"T_N" default:"7" help:"a count"`
	N32     int32         `env:"T_N32" help:"a small count"`
	N64     int64         `env:"T_N64" help:"a large count"`
	Eps     float64       `env:"T_EPS" default:"1.5" help:"a budget"`
	Grace   time.Duration `env:"T_GRACE" default:"10s" help:"a wait"`
	Level   slog.Level    `env:"T_LEVEL" default:"info" help:"log level"`
	TLS     inner
	Kept    string
	private string `env:"T_PRIVATE"`
}

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	var s sample
	s.N32, s.Kept = 3, "kept"
	if err := Parse(&s, lookupIn(map[string]string{"T_ADDR": ""})); err != nil {
		t.Fatal(err)
	}
	want := sample{Addr: "127.0.0.1:1", On: true, N: 7, N32: 3, Eps: 1.5, Grace: 10 * time.Second, Level: slog.LevelInfo, Kept: "kept"}
	if s != want {
		t.Errorf("defaults: got %+v, want %+v", s, want)
	}
	err := Parse(&s, lookupIn(map[string]string{
		"T_ADDR": ":9", "T_ON": "0", "T_N": "-2", "T_N32": "5", "T_N64": "9000000000",
		"T_EPS": "0.25", "T_GRACE": "1m", "T_LEVEL": "warn", "T_CERT": "c.pem",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want = sample{Addr: ":9", N: -2, N32: 5, N64: 9000000000, Eps: 0.25, Grace: time.Minute, Level: slog.LevelWarn, TLS: inner{Cert: "c.pem"}, Kept: "kept"}
	if s != want {
		t.Errorf("overrides: got %+v, want %+v", s, want)
	}
}

func TestParseErrorsNameTheVariableNotTheValue(t *testing.T) {
	for name, value := range map[string]string{
		"T_ON": "maybe-secret", "T_N": "many-secret", "T_N32": "9000000000", "T_EPS": "lots-secret",
		"T_GRACE": "10-secret", "T_LEVEL": "loud-secret",
	} {
		var s sample
		err := Parse(&s, lookupIn(map[string]string{name: value}))
		if err == nil {
			t.Errorf("%s=%q: no error", name, value)
			continue
		}
		if !strings.HasPrefix(err.Error(), name+": ") || strings.Contains(err.Error(), value) {
			t.Errorf("%s=%q: error %q should name the variable and not carry the value", name, value, err)
		}
	}
}

func TestParseRefusesWhatItCannotRead(t *testing.T) {
	var notStruct int
	if err := Parse(&notStruct, lookupIn(nil)); err == nil {
		t.Error("a pointer to an int: no error")
	}
	var s sample
	if err := Parse(s, lookupIn(nil)); err == nil {
		t.Error("a struct, not a pointer: no error")
	}
	var odd struct {
		C complex128 `env:"T_C" default:"1"`
	}
	if err := Parse(&odd, lookupIn(nil)); err == nil || !strings.Contains(err.Error(), "T_C") {
		t.Errorf("complex128: %v", err)
	}
}

func TestVarsMarkdownAndHelp(t *testing.T) {
	vars := Vars(sample{})
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	if got, want := strings.Join(names, ","), "T_ADDR,T_ON,T_N,T_N32,T_N64,T_EPS,T_GRACE,T_LEVEL,T_CERT"; got != want {
		t.Errorf("Vars: %s, want %s", got, want)
	}
	md := Markdown(vars[:2:2])
	wantMD := "| variable | default | meaning |\n| --- | --- | --- |\n" +
		"| `T_ADDR` | `127.0.0.1:1` | where it listens, `off` for nowhere |\n| `T_ON` | `true` | on or off |\n"
	if md != wantMD {
		t.Errorf("Markdown:\n%s\nwant:\n%s", md, wantMD)
	}
	help := Help([]Var{{Name: "T_X", Help: "the {x}"}, {Name: "T_Y", Default: "1", Help: "y"}})
	if want := "  T_X\n    \tthe x\n  T_Y (default 1)\n    \ty\n"; help != want {
		t.Errorf("Help:\n%q\nwant:\n%q", help, want)
	}
}

func TestReplaceBetween(t *testing.T) {
	doc := "a\n<!-- b -->\nold\n<!-- e -->\nz\n"
	got, err := ReplaceBetween(doc, "<!-- b -->", "<!-- e -->", "new\n")
	if err != nil || got != "a\n<!-- b -->\nnew\n<!-- e -->\nz\n" {
		t.Errorf("ReplaceBetween = %q, %v", got, err)
	}
	if _, err := ReplaceBetween("a\n", "<!-- b -->", "<!-- e -->", ""); err == nil {
		t.Error("no markers: no error")
	}
	if _, err := ReplaceBetween("<!-- b -->\nx\n", "<!-- b -->", "<!-- e -->", ""); err == nil {
		t.Error("no end marker: no error")
	}
}

type files struct {
	Cert string `env:"CERT" help:"the certificate, with {*KEY}"`
	Key  string `env:"KEY" help:"its key"`
}

type rate struct{ n int }

func (r *rate) UnmarshalText(b []byte) error {
	if string(b) != "fast" && string(b) != "slow" {
		return Reason("want fast or slow")
	}
	r.n = len(b)
	return nil
}

type prefixed struct {
	GRPC    files `envprefix:"T_TLS_" help:"gRPC"`
	Partner files `envprefix:"T_PARTNER_TLS_"`
	Rate    rate  `env:"T_RATE" default:"slow" help:"how fast"`
}

func TestPrefixedStructsAreReadUnderTheirOwnNames(t *testing.T) {
	var s prefixed
	err := Parse(&s, lookupIn(map[string]string{"T_TLS_CERT": "g.pem", "T_PARTNER_TLS_KEY": "p.key", "T_CERT": "nobody's"}))
	if err != nil {
		t.Fatal(err)
	}
	want := prefixed{GRPC: files{Cert: "g.pem"}, Partner: files{Key: "p.key"}, Rate: rate{n: 4}}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	got := Vars(prefixed{})
	wantVars := []Var{
		{Name: "T_TLS_CERT", Help: "gRPC: the certificate, with {T_TLS_KEY}"},
		{Name: "T_TLS_KEY", Help: "gRPC: its key"},
		{Name: "T_PARTNER_TLS_CERT", Help: "the certificate, with {T_PARTNER_TLS_KEY}"},
		{Name: "T_PARTNER_TLS_KEY", Help: "its key"},
		{Name: "T_RATE", Default: "slow", Help: "how fast"},
	}
	if len(got) != len(wantVars) {
		t.Fatalf("Vars: got %+v, want %+v", got, wantVars)
	}
	for i := range got {
		if got[i] != wantVars[i] {
			t.Errorf("Vars[%d]: got %+v, want %+v", i, got[i], wantVars[i])
		}
	}
}

func TestReasonsOfOwnTypesAreShown(t *testing.T) {
	var s prefixed
	err := Parse(&s, lookupIn(map[string]string{"T_RATE": "warp-secret"}))
	if err == nil || err.Error() != "T_RATE: want fast or slow" {
		t.Errorf("got %v, want the variable and the type's reason", err)
	}
}
