package docs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Kind says what a command line runs.
type Kind int

// The kinds of command the docs show.
const (
	// Other is anything else: go, psql, docker, a shell built-in.
	Other Kind = iota
	// Passage is the CLI, `passage …` or `bin/passage …` (cmd/passage).
	Passage
	// Make is `make TARGET…`.
	Make
	// GRPCurl is a gRPC call made with grpcurl.
	GRPCurl
	// Curl is an HTTP call made with curl, to the gateway.
	Curl
	// Assign sets shell variables: `export NAME=VALUE`, `NAME=VALUE`.
	Assign
)

func (k Kind) String() string {
	switch k {
	case Passage:
		return "passage"
	case Make:
		return "make"
	case GRPCurl:
		return "grpcurl"
	case Curl:
		return "curl"
	case Assign:
		return "assignment"
	}
	return "other"
}

// Block is one fenced shell block of a document.
type Block struct {
	// File is the document's path, relative to the repository's root.
	File string
	// Line is the line of the opening fence.
	Line int
	// Commands are the block's command lines, in order.
	Commands []Command
}

// Command is one command line of a block: continuations joined, the comment dropped, a
// console's "$ " prompt removed.
type Command struct {
	File string
	Line int
	// Text is the command as written.
	Text string
	Kind Kind
	// Fails says that the doc shows the command failing: its comment begins with "fails" or
	// "refused" (`passage case close X --version 1   # refused: …`).
	Fails bool
	// Synopsis says that the line shows a command's form rather than a command to run: it
	// has [optional] parts, a|b alternatives, an ellipsis or a metavariable (Metavariables).
	Synopsis bool
}

// Where is the command's place in the docs, "file:line".
func (c Command) Where() string { return fmt.Sprintf("%s:%d", c.File, c.Line) }

func (c Command) String() string { return c.Where() + ": " + c.Text }

// Metavariables are the words the docs write for "any value" of a flag or argument, as usage
// lines do. A command line with one shows the command's form; no earlier output binds them.
var Metavariables = []string{"N", "T", "ID", "KEY_ID", "STAFF_ID", "INBOUND_ID", "FILE", "CODE", "ROLE", "M", "R"}

// shellLangs are the info strings of the fenced blocks whose lines are commands.
var shellLangs = []string{"sh", "bash", "shell", "console"}

// Documents returns the Markdown files whose commands are checked: README.md and every
// Markdown file under docs/, in path order.
func Documents(root string) ([]string, error) {
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == filepath.Join(root, "docs") {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files[1:])
	return files, nil
}

// Read returns the shell blocks of every document (Documents) under root, in order.
func Read(root string) ([]Block, error) {
	var blocks []Block
	err := eachDocument(root, func(file, text string) error {
		bs, err := Parse(file, text)
		blocks = append(blocks, bs...)
		return err
	})
	return blocks, err
}

// eachDocument calls f with each document's path and text, in order.
func eachDocument(root string, f func(file, text string) error) error {
	files, err := Documents(root)
	if err != nil {
		return err
	}
	for _, file := range files {
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			return err
		}
		if err := f(file, string(text)); err != nil {
			return err
		}
	}
	return nil
}

// Parse returns the shell blocks of one Markdown document named file.
func Parse(file, text string) ([]Block, error) {
	var (
		blocks []Block
		cur    *Block
		lines  []numbered
		fence  string
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case fence == "" && strings.HasPrefix(trimmed, "```"):
			fence = "```"
			lang := strings.Fields(strings.TrimPrefix(trimmed, "```") + " ")
			if len(lang) > 0 && slices.Contains(shellLangs, lang[0]) {
				cur = &Block{File: file, Line: n}
				lines = nil
			}
		case fence != "" && trimmed == fence:
			fence = ""
			if cur != nil {
				cmds, err := commands(file, lines)
				if err != nil {
					return nil, err
				}
				cur.Commands = cmds
				blocks = append(blocks, *cur)
				cur = nil
			}
		case cur != nil:
			lines = append(lines, numbered{n, line})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if fence != "" {
		return nil, fmt.Errorf("%s: a fenced block is not closed", file)
	}
	return blocks, nil
}

type numbered struct {
	n    int
	text string
}

// commands turns a block's lines into its commands. In a block where some line starts with a
// "$ " prompt, only those lines are commands and the others are their output.
func commands(file string, lines []numbered) ([]Command, error) {
	prompted := slices.ContainsFunc(lines, func(l numbered) bool { return strings.HasPrefix(l.text, "$ ") })
	var out []Command
	for i := 0; i < len(lines); i++ {
		first := lines[i]
		text := first.text
		if prompted {
			if !strings.HasPrefix(text, "$ ") {
				continue
			}
			text = strings.TrimPrefix(text, "$ ")
		}
		// A line goes on after a backslash, or while a quote is open.
		for (strings.HasSuffix(text, `\`) || openQuote(text)) && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(lines[i].text)
		}
		code, err := dropComment(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, first.n, err)
		}
		comment := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text[len(code):]), "#"))
		code = strings.Join(strings.Fields(code), " ")
		if code == "" {
			continue
		}
		c := Command{File: file, Line: first.n, Text: code, Kind: classify(code), Fails: failing.MatchString(comment)}
		c.Synopsis = c.Kind != Assign && isSynopsis(code)
		out = append(out, c)
	}
	return out, nil
}

// openQuote says whether s ends inside a quote.
func openQuote(s string) bool {
	_, err := dropComment(s)
	return err != nil
}

// dropComment removes an unquoted # comment; an error if a quote is left open.
func dropComment(s string) (string, error) {
	end := len(s)
	prev := ' '
	open := unquoted(s, func(i int, r rune) bool {
		if r == '#' && (prev == ' ' || prev == '\t' || prev == ';') {
			end = i
			return false
		}
		prev = r
		return true
	})
	if open != 0 {
		return "", fmt.Errorf("unterminated %c quote", open)
	}
	return s[:end], nil
}

// unquoted calls yield with each character of s outside quotes (the quote marks excluded)
// and its index, until yield returns false; it returns the quote left open at the end of s,
// or 0.
func unquoted(s string, yield func(i int, r rune) bool) (open rune) {
	for i, r := range s {
		switch {
		case open != 0:
			if r == open {
				open = 0
			}
		case r == '\'' || r == '"':
			open = r
		case !yield(i, r):
			return 0
		}
	}
	return open
}

var failing = regexp.MustCompile(`(?i)^(fails|refused)\b`)

var assignment = regexp.MustCompile(`^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=`)

// classify says what a command line runs, from its first word.
func classify(text string) Kind {
	if assignment.MatchString(text) {
		return Assign
	}
	switch first, _, _ := strings.Cut(text, " "); first {
	case "passage", "bin/passage", "./bin/passage":
		return Passage
	case "make":
		return Make
	case "grpcurl":
		return GRPCurl
	case "curl":
		return Curl
	}
	return Other
}

var (
	// optional is an [optional part] outside quotes; alternatives an a|b written without
	// spaces, which a pipe never is in the docs.
	optional     = regexp.MustCompile(`(^|\s)\[[^\]]*\]`)
	alternatives = regexp.MustCompile(`[\w-]\|[\w-]`)
)

// isSynopsis says whether a command line shows a form rather than a command to run.
func isSynopsis(text string) bool {
	unquoted := stripQuoted(text)
	if optional.MatchString(unquoted) || alternatives.MatchString(unquoted) ||
		strings.Contains(unquoted, "...") || strings.Contains(unquoted, "…") {
		return true
	}
	for _, w := range strings.Fields(unquoted) {
		if slices.Contains(Metavariables, w) {
			return true
		}
	}
	return false
}

// stripQuoted returns s without its quoted parts.
func stripQuoted(s string) string {
	var b strings.Builder
	unquoted(s, func(_ int, r rune) bool {
		b.WriteRune(r)
		return true
	})
	return b.String()
}

// inlinePassage is an inline code span that shows a passage command.
var inlinePassage = regexp.MustCompile("`((?:bin/)?passage [^`]+)`")

// Inline returns the passage commands shown in inline code spans of every document's prose
// (InlineCommands).
func Inline(root string) ([]Command, error) {
	var out []Command
	err := eachDocument(root, func(file, text string) error {
		out = append(out, InlineCommands(file, text)...)
		return nil
	})
	return out, err
}

// InlineCommands returns the passage commands shown in the inline code spans of a document's
// prose (outside fenced blocks), each as a synopsis: prose shows a command's form.
func InlineCommands(file, text string) []Command {
	var (
		out    []Command
		fenced bool
		para   strings.Builder
		starts []int // the line each of the paragraph's lines is
	)
	// A span may wrap onto the next line: each paragraph is read whole.
	flush := func() {
		p := para.String()
		for _, m := range inlinePassage.FindAllStringSubmatchIndex(p, -1) {
			out = append(out, Command{File: file, Line: starts[strings.Count(p[:m[0]], "\n")],
				Text: strings.Join(strings.Fields(p[m[2]:m[3]]), " "), Kind: Passage, Synopsis: true})
		}
		para.Reset()
		starts = starts[:0]
	}
	for n, line := range strings.Split(text, "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case strings.HasPrefix(trimmed, "```"):
			flush()
			fenced = !fenced
		case fenced:
		case trimmed == "":
			flush()
		default:
			starts = append(starts, n+1)
			para.WriteString(line + "\n")
		}
	}
	flush()
	return out
}
