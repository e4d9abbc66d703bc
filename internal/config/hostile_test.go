package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config (possibly from a stranger's pull request) naming a device or a
// huge file fails with an error naming it instead of hanging or filling
// memory (found while writing FuzzConfigLoad).
func TestConfigFileMustBeRegularAndSmall(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path, want string
	}{
		{"extend device", write("dev.toml", "title = \"x\"\n[extend]\npath = \"/dev/zero\"\n"), "not a regular file"},
		{"extend huge", write("huge.toml", "title = \"x\"\n[extend]\npath = \""+big+"\"\n"), "larger than"},
		{"config device", "/dev/zero", "not a regular file"},
		{"config huge", big, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Fatalf("got %v, want an error naming %s saying %q", err, c.path, c.want)
			}
		})
	}
}
