package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDemoLoadFlags(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"DATABASE_URL": "postgres://x"}, "--persons must be at least 1"},
		{[]string{"--persons", "0"}, map[string]string{"DATABASE_URL": "postgres://x"}, "--persons must be at least 1"},
		{[]string{"--persons", "10"}, nil, "DATABASE_URL is not set"},
		{[]string{"--persons", "10", "extra"}, nil, "unexpected argument"},
		{[]string{"--persons", "10", "--first-year", "2020", "--last-year", "2019"}, map[string]string{"DATABASE_URL": "postgres://x"}, "years 2020 to 2019"},
	} {
		var out, errOut bytes.Buffer
		err := demoLoad(context.Background(), tt.args, env(tt.env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("demo load %q: err = %v, want %q", tt.args, err, tt.want)
		}
	}
	var errOut bytes.Buffer
	if err := runDemo(context.Background(), nil, &bytes.Buffer{}, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "demo load") {
		t.Errorf("passage demo: err = %v, usage %q", err, errOut.String())
	}
	if err := runDemo(context.Background(), []string{"nonsense"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("passage demo nonsense: no error")
	}
}

func TestDemoBenchFlags(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{"PASSAGE_TOKEN": "t"}[k] }
	for _, args := range [][]string{
		{"--concurrency", "0"}, {"--duration", "0s"}, {"--max-dims", "5"}, {"extra"},
	} {
		if err := demoBench(context.Background(), args, env, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("demo bench %q: no error", args)
		}
	}
	if err := demoBench(context.Background(), nil, func(string) string { return "" }, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, errNoToken) {
		t.Errorf("demo bench without a token: err = %v", err)
	}
}
