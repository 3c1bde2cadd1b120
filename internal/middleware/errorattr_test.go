package middleware

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsAreLoggedThroughErrorAttr reads the repository's Go code (generated and test
// files aside) for a log call given an error as it is, `logger.Warn("…", "error", err)`, its
// text or an attribute made of either: the error's text would be logged whole, and a Postgres
// error quotes row values in it. Every error goes through ErrorAttr. The check is by name (a
// variable err, or one ending in Err), which is how errors are named here.
func TestErrorsAreLoggedThroughErrorAttr(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("the repository's root is not two levels up: %v", err)
	}
	logCalls := map[string]bool{}
	for _, level := range []string{"Debug", "Info", "Warn", "Error"} {
		logCalls[level], logCalls[level+"Context"] = true, true
	}
	logCalls["Log"], logCalls["LogAttrs"] = true, true
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "gen" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !logCalls[sel.Sel.Name] {
				return true
			}
			for _, arg := range call.Args {
				if name, ok := rawError(arg); ok {
					t.Errorf("%s: %s logs %s as it is: log middleware.ErrorAttr(%s)", fset.Position(arg.Pos()), sel.Sel.Name, name, name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files read under %s", files, root)
	}
}

// rawError reports whether a log call's argument is an error as it is (err), its text
// (err.Error()) or a slog attribute or fmt string made of either (slog.Any("error", err)),
// and names the error. Other functions given the error (ErrorAttr, a classification) are
// trusted to keep only what is safe.
func rawError(arg ast.Expr) (string, bool) {
	if id, ok := arg.(*ast.Ident); ok {
		return id.Name, id.Name == "err" || strings.HasSuffix(id.Name, "Err")
	}
	call, ok := arg.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	if sel.Sel.Name == "Error" && len(call.Args) == 0 {
		return rawError(sel.X)
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || (pkg.Name != "slog" && pkg.Name != "fmt") {
		return "", false
	}
	for _, a := range call.Args {
		if name, ok := rawError(a); ok {
			return name, true
		}
	}
	return "", false
}
