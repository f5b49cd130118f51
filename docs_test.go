package main

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsReferences: every repository path and Go identifier that the
// docs name in backticks exists, so that a rename cannot leave the docs
// behind. The docs are README.md, docs/*.md and the README.md files under
// packaging/ and examples/; fenced code blocks are not read (they show
// commands and output, not references).
//
// What counts as a reference, and nothing else:
//   - a path: letters, digits and ._-/ only, whose first element is a
//     file or folder at the repository's root (`hook/root.go`,
//     `internal/delivery/`, `./bench`), or a bare file name ending in .go,
//     .md, .sh or .txtar (`policy.go`: some file of that name exists).
//     So `~/.claude/settings.json`, `/v1/traces`, `dist/ccotel.rb` (made by
//     release.sh), `settings.json` and `go.opentelemetry.io/...` are not
//     repository paths. A trailing `:LINE` is ignored.
//     Also `./NAME` for such a root entry. Not: the few paths of Go's own
//     source the docs name (goSource, e.g. `internal/cpu`).
//   - pkg.Name or pkg.Type.Member, Name exported, where pkg is the name of
//     a package of this repository (`usage.New`, `hook.Decode`): the
//     package declares Name, or Type with that method or field. Other
//     packages (`proto.Equal`) and `settings.json` are not checked.
//   - Type.Member where Type is a type declared in this repository
//     (`Counters.Rejected`).
//   - a bare TestX, FuzzX or BenchmarkX: a test function of that name.
func TestDocsReferences(t *testing.T) {
	idx := indexGo(t, ".")
	var docs []string
	for _, pattern := range []string{"README.md", "docs/*.md", "packaging/*/README.md", "packaging/README.md", "examples/*/README.md", "examples/README.md"} {
		m, _ := filepath.Glob(pattern)
		docs = append(docs, m...)
	}
	if len(docs) < 3 {
		t.Fatalf("found only %v", docs)
	}
	checked := 0
	for _, doc := range docs {
		for _, r := range backticked(t, doc) {
			ok, isRef := idx.resolve(r.text)
			if !isRef {
				continue
			}
			checked++
			if !ok {
				t.Errorf("%s:%d: `%s` names nothing in the repository", doc, r.line, r.text)
			}
		}
	}
	t.Logf("%d references checked in %d files", checked, len(docs))
	if checked < 50 {
		t.Errorf("only %d references checked: the scanner is broken", checked)
	}
}

type ref struct {
	text string
	line int
}

var codeSpan = regexp.MustCompile("`([^`\n]+)`")

// backticked returns the inline code spans of a Markdown file, outside
// fenced code blocks.
func backticked(t *testing.T, path string) []ref {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ref
	fenced := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			out = append(out, ref{m[1], n})
		}
	}
	return out
}

// goIndex is what the repository's Go files declare.
type goIndex struct {
	root     map[string]bool            // names at the repository's root
	files    map[string]bool            // base names of every file
	packages map[string]map[string]bool // package name -> Name, Type.Member
	types    map[string]map[string]bool // type name -> its members (any package)
	tests    map[string]bool            // Test*, Fuzz*, Benchmark* functions
}

func indexGo(t *testing.T, dir string) *goIndex {
	idx := &goIndex{root: map[string]bool{}, files: map[string]bool{}, packages: map[string]map[string]bool{}, types: map[string]map[string]bool{}, tests: map[string]bool{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		idx.root[e.Name()] = true
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		idx.files[d.Name()] = true
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.Contains(p, "testdata") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		idx.add(f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func (idx *goIndex) add(f *ast.File) {
	pkg := strings.TrimSuffix(f.Name.Name, "_test")
	names := idx.packages[pkg]
	if names == nil {
		names = map[string]bool{}
		idx.packages[pkg] = names
	}
	member := func(typ, name string) {
		names[typ+"."+name] = true
		if idx.types[typ] == nil {
			idx.types[typ] = map[string]bool{}
		}
		idx.types[typ][name] = true
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names[d.Name.Name] = true
				if regexp.MustCompile(`^(Test|Fuzz|Benchmark)`).MatchString(d.Name.Name) {
					idx.tests[d.Name.Name] = true
				}
				continue
			}
			typ := d.Recv.List[0].Type
			for {
				switch x := typ.(type) {
				case *ast.StarExpr:
					typ = x.X
					continue
				case *ast.IndexExpr:
					typ = x.X
					continue
				case *ast.IndexListExpr:
					typ = x.X
					continue
				}
				break
			}
			if id, ok := typ.(*ast.Ident); ok {
				member(id.Name, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				case *ast.TypeSpec:
					names[s.Name.Name] = true
					if idx.types[s.Name.Name] == nil {
						idx.types[s.Name.Name] = map[string]bool{}
					}
					if st, ok := s.Type.(*ast.StructType); ok {
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								member(s.Name.Name, n.Name)
							}
						}
					}
				}
			}
		}
	}
}

var (
	pathLike  = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)
	bareFile  = regexp.MustCompile(`^[A-Za-z0-9_.\-]+\.(go|md|sh|txtar)$`)
	qualified = regexp.MustCompile(`^([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?(?:\(\))?$`)
	testName  = regexp.MustCompile(`^(Test|Fuzz|Benchmark)[A-Z0-9_]\w*$`)
)

// resolve says whether text is a reference (isRef) and, if so, whether
// what it names exists (ok).
func (idx *goIndex) resolve(text string) (ok, isRef bool) {
	if testName.MatchString(text) {
		return idx.tests[text], true
	}
	if m := qualified.FindStringSubmatch(text); m != nil && isUpper(m[2]) {
		if names, isPkg := idx.packages[m[1]]; isPkg && m[1] != "main" {
			if m[3] != "" {
				return names[m[2]+"."+m[3]], true
			}
			return names[m[2]], true
		}
		if members, isType := idx.types[m[1]]; isType && m[3] == "" && isUpper(m[1]) {
			return members[m[2]], true
		}
	}
	p := regexp.MustCompile(`:\d+$`).ReplaceAllString(text, "")
	if !pathLike.MatchString(p) || strings.Contains(p, "...") {
		return false, false
	}
	dot := strings.HasPrefix(p, "./")
	p = strings.TrimPrefix(p, "./")
	first, _, nested := strings.Cut(p, "/")
	switch {
	case goSource[strings.TrimSuffix(p, "/")]:
		return false, false
	case (dot || nested) && idx.root[first]:
		_, err := os.Stat(strings.TrimSuffix(p, "/"))
		return err == nil, true
	case !nested && bareFile.MatchString(p):
		return idx.files[p], true
	}
	return false, false
}

// goSource are paths of Go's own source tree that the docs name and that
// would otherwise look like this repository's.
var goSource = map[string]bool{"internal/cpu": true, "internal/godebug": true}

func isUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// TestDocsReferencesResolve pins the rules above on examples.
func TestDocsReferencesResolve(t *testing.T) {
	idx := indexGo(t, ".")
	for text, want := range map[string]string{
		"hook/root.go": "ok", "internal/delivery/": "ok", "./bench": "ok", "docs/PERFORMANCE.md:12": "ok",
		"hook/nosuch.go": "missing", "policy.go": "ok", "nosuch.md": "missing",
		"usage.New": "ok", "usage.NoSuch": "missing", "tracing.Span": "ok", "state.Counters.Rejected": "ok",
		"Counters.Rejected": "ok", "Counters.NoSuch": "missing", "TestDocsReferences": "ok", "TestNoSuch": "missing",
		"~/.claude/settings.json": "none", "/v1/traces": "none", "dist/ccotel.rb": "none", "settings.json": "none",
		"proto.Equal": "none", "go test ./...": "none", "go.opentelemetry.io/proto/otlp": "none",
	} {
		ok, isRef := idx.resolve(text)
		got := map[bool]string{true: "ok", false: "missing"}[ok]
		if !isRef {
			got = "none"
		}
		if got != want {
			t.Errorf("resolve(%q) = %s, want %s", text, got, want)
		}
	}
}
