package docs

import (
	"fmt"
	"strings"
)

// GRPCurlCall is what a grpcurl command line asks for.
type GRPCurlCall struct {
	// Header are the -H values, "name: value".
	Header []string
	// Request is the -d JSON, "{}" without one.
	Request string
	// Address is the server's host:port.
	Address string
	// Method is "package.Service/Method", or "list".
	Method string
}

// ParseGRPCurl reads a grpcurl command line's words after "grpcurl", for the flags the docs
// use (-plaintext, -H, -d).
func ParseGRPCurl(words []string) (GRPCurlCall, error) {
	call := GRPCurlCall{Request: "{}"}
	var rest []string
	for i := 0; i < len(words); i++ {
		switch w := words[i]; w {
		case "-plaintext":
		case "-H", "-d":
			if i+1 == len(words) {
				return call, fmt.Errorf("grpcurl: %s without a value", w)
			}
			i++
			if w == "-H" {
				call.Header = append(call.Header, words[i])
			} else {
				call.Request = words[i]
			}
		default:
			if strings.HasPrefix(w, "-") {
				return call, fmt.Errorf("grpcurl: flag %s is not understood: teach docs.ParseGRPCurl", w)
			}
			rest = append(rest, w)
		}
	}
	if len(rest) != 2 {
		return call, fmt.Errorf("grpcurl: want ADDRESS METHOD, got %q", rest)
	}
	call.Address, call.Method = rest[0], rest[1]
	return call, nil
}

// CurlCall is what a curl command line asks for.
type CurlCall struct {
	// Verb is the HTTP method: -X's, or POST with -d, GET without.
	Verb string
	// URL is the address called.
	URL string
	// Header are the -H values; Body the -d data.
	Header []string
	Body   string
}

// ParseCurl reads a curl command line's words after "curl", for the flags the docs use
// (-s, -H, -d, -X).
func ParseCurl(words []string) (CurlCall, error) {
	var call CurlCall
	for i := 0; i < len(words); i++ {
		switch w := words[i]; w {
		case "-s", "-sS", "-f", "-i":
		case "-H", "-d", "-X":
			if i+1 == len(words) {
				return call, fmt.Errorf("curl: %s without a value", w)
			}
			i++
			switch w {
			case "-H":
				call.Header = append(call.Header, words[i])
			case "-d":
				call.Body = words[i]
			case "-X":
				call.Verb = words[i]
			}
		default:
			if strings.HasPrefix(w, "-") {
				return call, fmt.Errorf("curl: flag %s is not understood: teach docs.ParseCurl", w)
			}
			if call.URL != "" {
				return call, fmt.Errorf("curl: two URLs, %s and %s", call.URL, w)
			}
			call.URL = w
		}
	}
	switch {
	case call.URL == "":
		return call, fmt.Errorf("curl: no URL")
	case call.Verb == "" && call.Body != "":
		call.Verb = "POST"
	case call.Verb == "":
		call.Verb = "GET"
	}
	return call, nil
}
