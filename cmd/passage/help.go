package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
)

// How a command's outcome reaches the terminal. A command returns an error and prints nothing
// about it; exitCode prints it once and chooses the exit status:
//
//   - help asked for (-h, --help): a *helpRequest carrying the text, printed on stdout, exit 0;
//   - a command line missing its command: errUsage, the usage already on stderr, exit 2;
//   - a wrong command line: a *usageError, printed on stderr, exit 2;
//   - a call that failed: an *rpcError, its status already printed in full, exit 1;
//   - anything else: printed on stderr, exit 1.

// errUsage says a command line named no command: its group's usage has been printed on
// stderr, and there is nothing more to say.
var errUsage = errors.New("usage printed")

// helpRequest is -h or --help given to a command: its usage, to print on standard output.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// usageError is a command line that is wrong: a flag refused, an unknown command. command
// ("case register", "keys", "" for passage itself) names where, for the hint.
type usageError struct {
	command string
	err     error
}

func (e *usageError) Error() string {
	if e.command == "" {
		return fmt.Sprintf("%v (passage -h for help)", e.err)
	}
	return fmt.Sprintf("%s: %v (passage %s -h for help)", e.command, e.err, e.command)
}

func (e *usageError) Unwrap() error { return e.err }

// parseFlagSet parses args with fs, keeping what the flag package prints: -h comes back as a
// *helpRequest with the usage, a refused flag as a *usageError, so that each is printed once,
// on the right stream.
func parseFlagSet(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	defer fs.SetOutput(out)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return &helpRequest{text: buf.String()}
	case err != nil:
		return &usageError{command: fs.Name(), err: err}
	}
	return nil
}

// isHelp reports whether arg asks for help in place of a command.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// exitCode prints err once, on the stream it belongs to, and returns the process's exit
// status (see above).
func exitCode(err error, stdout, stderr io.Writer) int {
	var help *helpRequest
	var usage *usageError
	var failed *rpcError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return 0
	case errors.Is(err, flag.ErrHelp):
		// A flag set parsed without parseFlagSet has printed its usage itself.
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "passage:", err)
		return 2
	case errors.As(err, &failed):
		return 1
	default:
		fmt.Fprintln(stderr, "passage:", err)
		return 1
	}
}
