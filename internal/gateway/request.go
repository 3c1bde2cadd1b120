package gateway

import (
	"mime"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// methodOverrideHeaders are the headers some frameworks read to replace a request's method
// (POST carrying "DELETE", say). The gateway dispatches on the request's own method only: these
// headers are dropped before routing, and the mux's own X-HTTP-Method-Override handling and
// its POST-form-to-GET fallback are turned off (see New).
var methodOverrideHeaders = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// errMediaType is the one answer to a body that is not declared as JSON.
var errMediaType = &runtime.HTTPStatusError{
	HTTPStatus: http.StatusUnsupportedMediaType,
	Err:        status.Error(codes.InvalidArgument, "Content-Type must be application/json"),
}

// strictRequests wraps mux: it bounds the body, drops method-override headers, and answers 415
// Unsupported Media Type, in the gateway's JSON error shape, to a request whose Content-Type is
// anything but application/json (with at most a charset parameter of utf-8), or that has a
// body and no Content-Type. A request without a body and without a Content-Type (a GET) passes.
// Errors are written with marshaler, the gateway's JSON one.
func strictRequests(mux *runtime.ServeMux, marshaler runtime.Marshaler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		for _, h := range methodOverrideHeaders {
			r.Header.Del(h)
		}
		if !jsonRequest(r) {
			w.Header().Set("Accept", "application/json")
			runtime.HTTPError(r.Context(), mux, marshaler, w, r, errMediaType)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// jsonRequest reports whether r declares its body as JSON, or has neither body nor
// Content-Type.
func jsonRequest(r *http.Request) bool {
	types := r.Header.Values("Content-Type")
	switch len(types) {
	case 0:
		// ContentLength is 0 only when the request says it has no body (or, over HTTP/2,
		// ends the stream with its headers); -1 (unknown, chunked) counts as a body.
		return r.ContentLength == 0
	case 1:
		return isJSON(types[0])
	}
	return false
}

// isJSON reports whether a Content-Type value is application/json, with no parameter but a
// charset of utf-8 (RFC 8259 §8.1: JSON exchanged between systems is UTF-8).
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return false
		}
	}
	return true
}
