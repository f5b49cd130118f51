package claudetest

import (
	"strings"
	"testing"
)

func TestCutLongStrings(t *testing.T) {
	long := strings.Repeat("é", 50)
	in := `{"z":1,"a":{"long":"` + long + `","n":12345678901234567890,"arr":[true,null,"<x>&",-0.5e3,{}],"e":[]},"short":"ok"}`
	got, err := CutLongStrings([]byte(in), 20)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":1,"a":{"long":"ééééé…[claudetest: 45 of 50 characters cut]","n":12345678901234567890,"arr":[true,null,"<x>&",-0.5e3,{}],"e":[]},"short":"ok"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := CutLongStrings([]byte(`{"a":`), 20); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestPlaceholders(t *testing.T) {
	sb, err := NewSandbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &Play{Sandbox: sb}
	project := strings.NewReplacer("/", "-", "_", "-", ".", "-").Replace(sb.Cwd)
	in := sb.Home + "/.claude/projects/" + project + "/x.jsonl " + sb.Cwd + "/a " + sb.Tmp + "/b " + sb.Root + "/events.jsonl"
	if got, want := p.Placeholders().Replace(in), "$HOME/.claude/projects/$PROJECT/x.jsonl $CWD/a $TMPDIR/b $ROOT/events.jsonl"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
