package server

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/quota"
)

func TestConfigFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr bool
	}{
		{
			name: "defaults",
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute},
		},
		{
			name: "overrides",
			env: map[string]string{
				"PASSAGE_GRPC_ADDR":          ":9090",
				"PASSAGE_HTTP_ADDR":          ":9091",
				"PASSAGE_SHUTDOWN_GRACE":     "30s",
				"PASSAGE_MAX_RECV_MSG_BYTES": "4194304",
				"PASSAGE_PARTNER_HTTP_ADDR":  "off",
				"PASSAGE_MAX_TOKEN_LIFETIME": "1h",
			},
			want: Config{GRPCAddr: ":9090", HTTPAddr: ":9091", PartnerHTTPAddr: "off", ShutdownGrace: 30 * time.Second, MaxRecvMsgBytes: 4 << 20, MaxTokenLifetime: time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute},
		},
		{
			name: "empty values keep defaults",
			env:  map[string]string{"PASSAGE_GRPC_ADDR": "", "PASSAGE_SHUTDOWN_GRACE": ""},
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute},
		},
		{name: "grace without unit", env: map[string]string{"PASSAGE_SHUTDOWN_GRACE": "10"}, wantErr: true},
		{name: "negative grace", env: map[string]string{"PASSAGE_SHUTDOWN_GRACE": "-1s"}, wantErr: true},
		{name: "size not a number", env: map[string]string{"PASSAGE_MAX_RECV_MSG_BYTES": "1MiB"}, wantErr: true},
		{name: "size zero", env: map[string]string{"PASSAGE_MAX_RECV_MSG_BYTES": "0"}, wantErr: true},
		{name: "token lifetime without unit", env: map[string]string{"PASSAGE_MAX_TOKEN_LIFETIME": "12"}, wantErr: true},
		{name: "token lifetime under a minute", env: map[string]string{"PASSAGE_MAX_TOKEN_LIFETIME": "30s"}, wantErr: true},
		{name: "token lifetime over a week", env: map[string]string{"PASSAGE_MAX_TOKEN_LIFETIME": "169h"}, wantErr: true},
		{
			name: "mTLS",
			env:  map[string]string{"PASSAGE_TLS_CERT": "s.pem", "PASSAGE_TLS_KEY": "s.key", "PASSAGE_TLS_CLIENT_CA": "ca.pem"},
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute,
				TLS: mtls.ServerFiles{Cert: "s.pem", Key: "s.key", ClientCA: "ca.pem"}},
		},
		{name: "TLS cert without key", env: map[string]string{"PASSAGE_TLS_CERT": "s.pem"}, wantErr: true},
		{name: "TLS key without cert", env: map[string]string{"PASSAGE_TLS_KEY": "s.key"}, wantErr: true},
		{name: "client CA alone", env: map[string]string{"PASSAGE_TLS_CLIENT_CA": "ca.pem"}, wantErr: true},
		{
			name: "partner gateway's own TLS",
			env: map[string]string{"PASSAGE_TLS_CERT": "s.pem", "PASSAGE_TLS_KEY": "s.key", "PASSAGE_TLS_CLIENT_CA": "ca.pem",
				"PASSAGE_PARTNER_TLS_CERT": "p.pem", "PASSAGE_PARTNER_TLS_KEY": "p.key", "PASSAGE_PARTNER_TLS_CLIENT_CA": "partners-ca.pem"},
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute,
				TLS:        mtls.ServerFiles{Cert: "s.pem", Key: "s.key", ClientCA: "ca.pem"},
				PartnerTLS: mtls.ServerFiles{Cert: "p.pem", Key: "p.key", ClientCA: "partners-ca.pem"}},
		},
		{
			name: "transport limits",
			env: map[string]string{
				"PASSAGE_MAX_CONNECTIONS": "1000", "PASSAGE_MAX_CONCURRENT_STREAMS": "20", "PASSAGE_MAX_HEADER_BYTES": "8192",
				"PASSAGE_HTTP_READ_TIMEOUT": "2m", "PASSAGE_IDLE_TIMEOUT": "15m",
			},
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour, Quota: quota.DefaultConfig(),
				MaxConnections: 1000, MaxConcurrentStreams: 20, MaxHeaderBytes: 8192, HTTPReadTimeout: 2 * time.Minute, HTTPWriteTimeout: time.Minute, IdleTimeout: 15 * time.Minute},
		},
		{name: "connections not a number", env: map[string]string{"PASSAGE_MAX_CONNECTIONS": "many"}, wantErr: true},
		{name: "streams zero", env: map[string]string{"PASSAGE_MAX_CONCURRENT_STREAMS": "0"}, wantErr: true},
		{name: "headers too small for a token", env: map[string]string{"PASSAGE_MAX_HEADER_BYTES": "1024"}, wantErr: true},
		{name: "read timeout without unit", env: map[string]string{"PASSAGE_HTTP_READ_TIMEOUT": "30"}, wantErr: true},
		{name: "idle timeout negative", env: map[string]string{"PASSAGE_IDLE_TIMEOUT": "-1m"}, wantErr: true},
		{name: "partner cert without key", env: map[string]string{"PASSAGE_PARTNER_TLS_CERT": "p.pem"}, wantErr: true},
		{name: "partner client CA alone", env: map[string]string{"PASSAGE_PARTNER_TLS_CLIENT_CA": "ca.pem"}, wantErr: true},
		{
			name: "quotas",
			env:  map[string]string{"PASSAGE_QUOTA": "off", "PASSAGE_QUOTA_ANALYTICS": "30:120", "PASSAGE_QUOTA_UNAUTHENTICATED": "0.5:2"},
			want: Config{GRPCAddr: "127.0.0.1:7070", HTTPAddr: "127.0.0.1:7080", PartnerHTTPAddr: "127.0.0.1:7090", ShutdownGrace: 10 * time.Second, MaxRecvMsgBytes: 1 << 20, MaxTokenLifetime: 12 * time.Hour,
				MaxConnections: 256, MaxConcurrentStreams: 100, MaxHeaderBytes: 16 << 10, HTTPReadTimeout: 30 * time.Second, HTTPWriteTimeout: time.Minute, IdleTimeout: 5 * time.Minute,
				Quota: withLimits(false, map[quota.Class]quota.Limit{quota.Analytics: {Rate: 30, Burst: 120}, quota.Unauthenticated: {Rate: 0.5, Burst: 2}})},
		},
		{name: "quota neither on nor off", env: map[string]string{"PASSAGE_QUOTA": "yes"}, wantErr: true},
		{name: "quota without burst", env: map[string]string{"PASSAGE_QUOTA_READ": "100"}, wantErr: true},
		{name: "quota rate zero", env: map[string]string{"PASSAGE_QUOTA_WRITE": "0:10"}, wantErr: true},
		{name: "quota burst below one call", env: map[string]string{"PASSAGE_QUOTA_SEARCH": "10:0.5"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := configFrom(func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("configFrom error = %v, want error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// withLimits is the default quota configuration, enabled or not, with limits overridden.
func withLimits(enabled bool, limits map[quota.Class]quota.Limit) quota.Config {
	q := quota.DefaultConfig()
	q.Enabled = envconfig.Switch(enabled)
	for c, l := range limits {
		q.Limits.Set(c, l)
	}
	return q
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	got := Config{GRPCAddr: ":1", MaxRecvMsgBytes: 10}.withDefaults()
	want := Config{GRPCAddr: ":1", HTTPAddr: DefaultHTTPAddr, ShutdownGrace: DefaultShutdownGrace, MaxRecvMsgBytes: 10,
		MaxConnections: DefaultMaxConnections, MaxConcurrentStreams: DefaultMaxConcurrentStreams, MaxHeaderBytes: DefaultMaxHeaderBytes,
		HTTPReadTimeout: DefaultHTTPReadTimeout, HTTPWriteTimeout: DefaultHTTPWriteTimeout, IdleTimeout: DefaultIdleTimeout}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withDefaults (-want +got):\n%s", diff)
	}
}

// TestEnvTagDefaults: the defaults in the env tags, which docs/operators.md and `passage serve -h`
// show, are those DefaultConfig uses.
func TestEnvTagDefaults(t *testing.T) {
	var got Config
	if err := envconfig.Parse(&got, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	got.Quota, got.HTTPWriteTimeout = want.Quota, want.HTTPWriteTimeout // no env tag
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tag defaults = %+v\nDefaultConfig = %+v", got, want)
	}
}
