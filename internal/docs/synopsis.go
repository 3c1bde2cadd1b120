package docs

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var (
	commandWord = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\|[a-z][a-z0-9_-]*)*$`)
	flagWord    = regexp.MustCompile(`^\[?(--?[a-z][a-z0-9-]*)`)
)

// Paths returns the command a synopsis names ("referral deliveries list|replay" names two),
// and the flags it shows, without their dashes.
func Paths(c Command) (paths [][]string, flags []string) {
	words := strings.Fields(withoutQuoteMarks(c.Text))[1:] // after passage
	paths = [][]string{nil}
	i := 0
	for ; i < len(words) && commandWord.MatchString(words[i]); i++ {
		var next [][]string
		for _, alt := range strings.Split(words[i], "|") {
			for _, p := range paths {
				next = append(next, append(append([]string(nil), p...), alt))
			}
		}
		paths = next
	}
	for _, w := range words[i:] {
		if m := flagWord.FindStringSubmatch(w); m != nil {
			flags = append(flags, strings.TrimLeft(m[1], "-"))
		}
	}
	return paths, flags
}

// withoutQuoteMarks removes the quote characters of s, keeping what they quote.
func withoutQuoteMarks(s string) string { return strings.NewReplacer(`"`, "", `'`, "").Replace(s) }

// Check checks passage commands that are shown rather than run, such as those of the prose's
// inline code (Inline), as synopses (checkSynopsis).
func (s *Session) Check(t testing.TB, commands []Command) {
	t.Helper()
	s.t = t
	s.init()
	for _, c := range commands {
		s.checkSynopsis(c)
	}
}

// checkSynopsis checks a passage command that is shown rather than run: each command it
// names exists (its -h exits 0) and takes every flag the line shows (its help names it).
func (s *Session) checkSynopsis(c Command) {
	s.t.Helper()
	s.checked++
	paths, flags := Paths(c)
	var problems []string
	for _, p := range paths {
		out, errOut, code := s.passage(append(p, "-h"))
		if code != 0 {
			problems = append(problems, fmt.Sprintf("`passage %s -h`: exit %d, so the command does not exist\n%s", strings.Join(p, " "), code, errOut))
			continue
		}
		help := out + errOut
		for _, f := range flags {
			if f == "h" || f == "help" {
				continue
			}
			if !regexp.MustCompile(`(^|[\s\[,(])--?` + regexp.QuoteMeta(f) + `\b`).MatchString(help) {
				problems = append(problems, fmt.Sprintf("`passage %s` has no flag --%s; its help:\n%s", strings.Join(p, " "), f, help))
			}
		}
	}
	s.outcome(c, len(problems) == 0, strings.Join(problems, "\n"))
}
