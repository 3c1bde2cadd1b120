package docs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Expander supplies what a command line refers to: shell variables ($NAME, ${NAME}) and the
// output of command substitutions ($(…)).
type Expander interface {
	Var(name string) (string, error)
	Subst(command string) (string, error)
}

// Pipeline is one statement of a command line: commands joined by |, each a list of words.
type Pipeline [][]string

// Split splits a command line as a POSIX shell would, for the subset the docs use: words
// with single and double quotes and backslash escapes, $NAME, ${NAME} and $(…) expanded
// through x (inside double quotes and unquoted, never inside single quotes), statements
// separated by ; or &&, and pipelines.
func Split(line string, x Expander) ([]Pipeline, error) {
	s := &splitter{x: x}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case s.quote == '\'':
			if r == '\'' {
				s.quote = 0
			} else {
				s.word.WriteRune(r)
			}
		case r == '\\' && i+1 < len(rs) && (s.quote == 0 || strings.ContainsRune(`"$\`, rs[i+1])):
			i++
			s.word.WriteRune(rs[i])
			s.inWord = true
		case r == '$':
			n, err := s.dollar(rs[i+1:])
			if err != nil {
				return nil, err
			}
			i += n
		case s.quote == '"':
			if r == '"' {
				s.quote = 0
			} else {
				s.word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			s.quote = r
			s.inWord = true
		case unicode.IsSpace(r):
			s.endWord()
		case r == ';':
			s.endStatement()
		case r == '&' && i+1 < len(rs) && rs[i+1] == '&':
			i++
			s.endStatement()
		case r == '|':
			s.endCommand()
		default:
			s.word.WriteRune(r)
			s.inWord = true
		}
	}
	if s.quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", s.quote)
	}
	s.endStatement()
	return s.out, nil
}

type splitter struct {
	x      Expander
	quote  rune
	word   strings.Builder
	inWord bool
	cmd    []string
	pipe   Pipeline
	out    []Pipeline
}

// dollar expands what follows a $ in rest and returns how many runes it took.
func (s *splitter) dollar(rest []rune) (int, error) {
	switch {
	case len(rest) > 0 && rest[0] == '(':
		depth := 0
		for j, r := range rest {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				out, err := s.x.Subst(strings.TrimSpace(string(rest[1:j])))
				if err != nil {
					return 0, err
				}
				s.expanded(out)
				return j + 1, nil
			}
		}
		return 0, errors.New("unterminated $(")
	case len(rest) > 0 && rest[0] == '{':
		end := slices.Index(rest, '}')
		if end < 0 {
			return 0, errors.New("unterminated ${")
		}
		v, err := s.x.Var(string(rest[1:end]))
		if err != nil {
			return 0, err
		}
		s.expanded(v)
		return end + 1, nil
	}
	n := 0
	for n < len(rest) && (rest[n] == '_' || unicode.IsLetter(rest[n]) || (n > 0 && unicode.IsDigit(rest[n]))) {
		n++
	}
	if n == 0 {
		s.word.WriteRune('$')
		s.inWord = true
		return 0, nil
	}
	v, err := s.x.Var(string(rest[:n]))
	if err != nil {
		return 0, err
	}
	s.expanded(v)
	return n, nil
}

// expanded adds an expansion's value to the word: as it is within double quotes; split into
// words at white space outside them, as a shell does.
func (s *splitter) expanded(v string) {
	if s.quote == '"' {
		s.word.WriteString(v)
		return
	}
	for i, field := range strings.Fields(v) {
		if i > 0 {
			s.endWord()
		}
		s.word.WriteString(field)
		s.inWord = true
	}
}

func (s *splitter) endWord() {
	if s.inWord {
		s.cmd = append(s.cmd, s.word.String())
	}
	s.word.Reset()
	s.inWord = false
}

func (s *splitter) endCommand() {
	s.endWord()
	if len(s.cmd) > 0 {
		s.pipe = append(s.pipe, s.cmd)
	}
	s.cmd = nil
}

func (s *splitter) endStatement() {
	s.endCommand()
	if len(s.pipe) > 0 {
		s.out = append(s.out, s.pipe)
	}
	s.pipe = nil
}

// Literal is an Expander that leaves every reference as written ($NAME, $(…)) but for the
// variables it holds, for reading a command line's shape without running anything.
type Literal map[string]string

// Var returns the variable's value if l holds it, else $name.
func (l Literal) Var(name string) (string, error) {
	if v, ok := l[name]; ok {
		return v, nil
	}
	return "$" + name, nil
}

// Subst returns $(command).
func (Literal) Subst(command string) (string, error) { return "$(" + command + ")", nil }
