package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// root is the repository, from this package's directory.
const root = "../.."

// page is one markdown file: its headings' anchors and the links in its text.
type page struct {
	anchors map[string]bool
	links   []link
}

// link is one markdown link target on a line of a page.
type link struct {
	line   int
	target string
}

// inlineLink matches [text](target) and ![alt](target); the target ends at the first space
// (a title may follow) or closing parenthesis.
var inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// codeSpan matches inline code, whose brackets are not links.
var codeSpan = regexp.MustCompile("`[^`]*`")

// parse reads a markdown file: headings outside fenced code blocks become anchors as GitHub
// makes them, and links outside code become links.
func parse(path string) (page, error) {
	f, err := os.Open(path)
	if err != nil {
		return page{}, err
	}
	defer f.Close()
	p := page{anchors: map[string]bool{}}
	seen := map[string]int{}
	var fence string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if text, ok := heading(line); ok {
			a := anchor(text)
			if k := seen[a]; k > 0 {
				p.anchors[a+"-"+strconv.Itoa(k)] = true
			} else {
				p.anchors[a] = true
			}
			seen[a]++
		}
		for _, m := range inlineLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
			p.links = append(p.links, link{line: n, target: m[1]})
		}
	}
	return p, sc.Err()
}

// heading returns the text of an ATX heading line ("## Text").
func heading(line string) (string, bool) {
	level := len(line) - len(strings.TrimLeft(line, "#"))
	if level == 0 || level > 6 || (len(line) > level && line[level] != ' ') {
		return "", false
	}
	return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[level:]), "#")), true
}

// anchor is the fragment GitHub gives a heading: lower case, spaces as hyphens, every other
// character but letters, digits, hyphens and underscores dropped (the backquotes of code
// too). GitHub numbers repeated headings -1, -2, ..., as parse does.
func anchor(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pages returns README.md and every markdown file under docs/, relative to root (Documents).
func pages(t *testing.T) []string {
	t.Helper()
	files, err := Documents(root)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// external reports whether a target leaves the repository (a scheme such as https: or
// mailto:), which these tests do not follow.
func external(target string) bool {
	scheme, _, ok := strings.Cut(target, ":")
	return ok && !strings.ContainsAny(scheme, "/#.")
}

// resolved is a link of a page that stays in the repository: the file it names (relative
// to root, with slashes; the page itself for a bare "#fragment") and its fragment.
type resolved struct {
	link
	file, fragment string
}

// relative returns the links of p, the page at from, that are not external, resolved.
func relative(p page, from string) []resolved {
	var out []resolved
	for _, l := range p.links {
		if external(l.target) {
			continue
		}
		r := resolved{link: l, file: from}
		path, fragment, _ := strings.Cut(l.target, "#")
		if path != "" {
			r.file = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(from), path)))
		}
		r.fragment = fragment
		out = append(out, r)
	}
	return out
}

// TestLinksResolve: every relative link in README.md and under docs/ names a file or
// directory of the repository, and a #fragment names a heading of the markdown file it
// points to.
func TestLinksResolve(t *testing.T) {
	t.Parallel()
	parsed := map[string]page{}
	load := func(file string) (page, error) {
		if p, ok := parsed[file]; ok {
			return p, nil
		}
		p, err := parse(filepath.Join(root, file))
		if err == nil {
			parsed[file] = p
		}
		return p, err
	}
	for _, from := range pages(t) {
		p, err := load(from)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range relative(p, from) {
			switch _, err := os.Stat(filepath.Join(root, l.file)); {
			case strings.HasPrefix(l.file, "../"):
				t.Errorf("%s:%d: %s leaves the repository", from, l.line, l.target)
			case err != nil:
				t.Errorf("%s:%d: %s: no such file %s", from, l.line, l.target, l.file)
			case l.fragment == "":
			case !strings.HasSuffix(l.file, ".md"):
				t.Errorf("%s:%d: %s: a fragment on a file that is not markdown", from, l.line, l.target)
			default:
				target, err := load(l.file)
				if err != nil {
					t.Fatal(err)
				}
				if !target.anchors[l.fragment] {
					t.Errorf("%s:%d: %s: %s has no heading #%s", from, l.line, l.target, l.file, l.fragment)
				}
			}
		}
	}
}

// TestEveryPageReachableFromREADME: following relative links from README.md reaches every
// markdown page under docs/, so a newcomer who starts at the README can find them all.
func TestEveryPageReachableFromREADME(t *testing.T) {
	t.Parallel()
	reached := map[string]bool{"README.md": true}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		p, err := parse(filepath.Join(root, from))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range relative(p, from) {
			file := l.file
			if info, err := os.Stat(filepath.Join(root, file)); err == nil && info.IsDir() {
				file += "/README.md" // GitHub shows a directory's README
			}
			if strings.HasSuffix(file, ".md") && !reached[file] {
				if _, err := os.Stat(filepath.Join(root, file)); err == nil {
					reached[file] = true
					queue = append(queue, file)
				}
			}
		}
	}
	for _, file := range pages(t) {
		if !reached[file] {
			t.Errorf("%s cannot be reached by following links from README.md", file)
		}
	}
}

// headingAnchors are headings of these documents, and others, with the fragments GitHub
// gives them.
var headingAnchors = map[string]string{
	"Keys and erasure":                                 "keys-and-erasure",
	"A caseworker's first five minutes":                "a-caseworkers-first-five-minutes",
	"The mission's side: `passage referral`":           "the-missions-side-passage-referral",
	"The HTTP/JSON gateway":                            "the-httpjson-gateway",
	"Quotas under a flood (issue 15, 7 December 2026)": "quotas-under-a-flood-issue-15-7-december-2026",
	"Protection, on one page":                          "protection-on-one-page",
	"Release: small-cell suppression":                  "release-small-cell-suppression",
	"CTDC microdata (`internal/ctdc`)":                 "ctdc-microdata-internalctdc",
	"Données à caractère personnel":                    "données-à-caractère-personnel",
}

// TestAnchor: headings become the fragments GitHub gives them, code, punctuation and all.
func TestAnchor(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for heading := range headingAnchors {
		got[heading] = anchor(heading)
	}
	if diff := cmp.Diff(headingAnchors, got); diff != "" {
		t.Errorf("anchors (-want +got):\n%s", diff)
	}
}

// TestParsePage: links inside code are not links, headings inside fenced code are not headings,
// and a repeated heading gets GitHub's numbered anchor.
func TestParsePage(t *testing.T) {
	t.Parallel()
	doc := "# Title\n\nSee [the keys](operators.md#keys) and `[not](a-link.md)`.\n\n" +
		"```sh\n# not a heading\necho [x](y.md)\n```\n\n## Title\n\n![a picture](img/p.png \"caption\")\n"
	path := filepath.Join(t.TempDir(), "page.md")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := parse(path)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []string
	for a := range p.anchors {
		anchors = append(anchors, a)
	}
	slices.Sort(anchors)
	if want := []string{"title", "title-1"}; !slices.Equal(anchors, want) {
		t.Errorf("anchors = %q, want %q", anchors, want)
	}
	if want := []link{{3, "operators.md#keys"}, {12, "img/p.png"}}; !slices.Equal(p.links, want) {
		t.Errorf("links = %v, want %v", p.links, want)
	}
}
