// Package commonpw holds Django's list of common passwords, used by restauth's
// equivalent of Django's CommonPasswordValidator.
//
// The list (common-passwords.txt.gz) is the one Django ships in
// django/contrib/auth/common-passwords.txt.gz: 20,000 common passwords created by Royce
// Williams, lower-cased and deduplicated by Django. Django is distributed under the BSD
// 3-Clause licence; see NOTICE at the repository root.
package commonpw

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"
)

//go:embed common-passwords.txt.gz
var listGz []byte

var (
	loadOnce sync.Once
	list     map[string]struct{}
)

// Contains reports whether candidate is on the list. Entries are lower-case and have no
// surrounding white space, so callers must lower-case and trim candidates the way
// Django does (password.lower().strip()) before asking.
//
// The list is decompressed on first use (about 20k entries), not at program start, so
// services that never validate passwords do not pay for it.
func Contains(candidate string) bool {
	loadOnce.Do(load)
	_, ok := list[candidate]
	return ok
}

// Len returns the number of distinct entries, for tests and diagnostics.
func Len() int {
	loadOnce.Do(load)
	return len(list)
}

// load reads the embedded list as Django does: one entry per line, each stripped of
// surrounding white space. The file is part of the binary, so a read error can only
// mean a broken build; panicking says so loudly instead of silently accepting every
// password.
func load() {
	zr, err := gzip.NewReader(bytes.NewReader(listGz))
	if err != nil {
		panic("commonpw: embedded list is not gzip: " + err.Error())
	}
	m := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		m[strings.TrimSpace(sc.Text())] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		panic("commonpw: embedded list is unreadable: " + err.Error())
	}
	list = m
}
