package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/passage-cm/passage/internal/egress"
)

// statusLine is what is stored of a failed response: the code and the standard text for it,
// never the partner's own reason phrase nor its body, which could echo what it was sent.
func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return "HTTP " + strconv.Itoa(code) + " " + text
	}
	return "HTTP " + strconv.Itoa(code)
}

// transportError names a failure without a response in a few fixed words. The error's own
// text is never stored: it holds the endpoint's URL, which may carry a partner's token.
func transportError(err error) string {
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		recErr  tls.RecordHeaderError
		refused *egress.RefusedError
	)
	switch {
	case errors.As(err, &refused):
		if refused.Kind == egress.KindPublicOverHTTP {
			return "address refused: public over http"
		}
		return "address refused: " + refused.Kind
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a response"
	case errors.As(err, &dnsErr):
		return "dns lookup failed"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &recErr):
		return "tls handshake failed"
	default:
		return "transport error"
	}
}

// parseRetryAfter reads a Retry-After value (RFC 9110, section 10.2.3): delay-seconds or an
// HTTP-date. A date in the past means now.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
