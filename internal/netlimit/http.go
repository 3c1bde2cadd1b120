package netlimit

import (
	"net/http"
	"time"
)

// HTTP are the limits of one HTTP server. A zero field sets no limit, as in net/http.
type HTTP struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, headers and body: a client that sends its
	// body slower is cut off. Over HTTP/2 it applies to each stream.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's headers to the end of its
	// response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request for this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers (HTTP/1.1 bytes, HTTP/2 header list).
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body: reading more fails, and the connection is closed
	// after the response.
	MaxBodyBytes int64
	// MaxConcurrentStreams bounds the requests in flight on one HTTP/2 connection.
	MaxConcurrentStreams int
}

// Server returns an http.Server serving h within l.
func (l HTTP) Server(h http.Handler) *http.Server {
	if l.MaxBodyBytes > 0 {
		h = maxBody(h, l.MaxBodyBytes)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
	if l.MaxConcurrentStreams > 0 {
		srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: l.MaxConcurrentStreams}
	}
	return srv
}

func maxBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}
