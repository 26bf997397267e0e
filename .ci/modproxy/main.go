// Command modproxy writes a Go module proxy directory (GOPROXY=file://…) holding the
// publishable restauth modules at one version, zipped from the working tree with
// golang.org/x/mod/zip exactly as the module proxy would serve a tagged release. CI
// builds a throwaway consumer module against it with GOWORK=off, which proves that
// `go get github.com/restauth/restauth/sqlitestore@vX` resolves without any replace
// directive (see the README's "Versions and modules").
//
// Usage: go run . -repo ../.. -out /tmp/proxy -version v0.1.0
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// published are the modules a user installs, by directory relative to the repository.
// The others (bench, e2e, examples/server, faults) are tools of this repository and
// keep their replace directives.
var published = []string{".", "sqlitestore", "pgstore", "redislimit"}

func main() {
	repo := flag.String("repo", ".", "the repository's root directory")
	out := flag.String("out", "", "the proxy directory to write (required)")
	version := flag.String("version", "", "the version to serve every module at (required)")
	flag.Parse()
	if *out == "" || *version == "" {
		flag.Usage()
		os.Exit(2)
	}
	for _, dir := range published {
		path, err := writeModule(filepath.Join(*repo, dir), *out, *version)
		if err != nil {
			log.Fatalf("modproxy: %s: %v", dir, err)
		}
		fmt.Printf("%s@%s\n", path, *version)
	}
}

// writeModule adds the module in dir to the proxy at out and returns its path.
func writeModule(dir, out, version string) (string, error) {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		return "", err
	}
	if len(f.Replace) > 0 {
		// A replace directive is ignored in a dependency's go.mod: the consumer would
		// build against whatever the require lines name, so a published module must not
		// rely on one.
		return "", fmt.Errorf("go.mod has replace directives; a published module must not")
	}
	mv := module.Version{Path: f.Module.Mod.Path, Version: version}
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		return "", err
	}
	at := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  gomod,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(at, name), b, 0o644); err != nil {
			return "", err
		}
	}
	z, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		return "", err
	}
	// CreateFromDir leaves out nested modules (each directory with its own go.mod) and
	// version-control directories, as the proxy does for a tagged commit.
	if err := zip.CreateFromDir(z, mv, dir); err != nil {
		z.Close()
		return "", err
	}
	return mv.Path, z.Close()
}
