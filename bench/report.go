package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything one run measured; it is what -json writes.
type report struct {
	Started  time.Time      `json:"started"`
	WallS    float64        `json:"wall_s"`
	Machine  machineInfo    `json:"machine"`
	Settings settings       `json:"settings"`
	Targets  []targetResult `json:"targets"`
	Logins   []*loginResult `json:"logins,omitempty"`
}

// machineInfo describes where the run happened, load included: figures from a loaded
// machine are only comparable as ratios.
type machineInfo struct {
	CPUModel    string `json:"cpu_model"`
	NumCPU      int    `json:"num_cpu"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	LoadAtStart string `json:"loadavg_start"`
	LoadAtEnd   string `json:"loadavg_end"`
}

// settings are the flags of the run.
type settings struct {
	Workers       int     `json:"workers"`
	RoundS        float64 `json:"round_s"`
	Rounds        int     `json:"rounds"`
	WarmupS       float64 `json:"warmup_s"`
	Postgres      bool    `json:"postgres"`
	Login         bool    `json:"login"`
	LoginS        float64 `json:"login_s"`
	LoginWorkers  int     `json:"login_workers"`
	LoadGenerator string  `json:"load_generator"`
}

// targetResult is one target's figures over all rounds of GET /api/auth/user/.
type targetResult struct {
	Name      string  `json:"name"`
	ReqPerSec float64 `json:"req_per_s"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	// Ratio is ReqPerSec ÷ the bare handler's ReqPerSec over the whole run; RatioMin and
	// RatioMax are the extremes of the per-round ratios (each round's target against the
	// same round's bare handler), a measure of how much the figure can be trusted.
	Ratio    float64 `json:"ratio_to_bare"`
	RatioMin float64 `json:"ratio_min_round"`
	RatioMax float64 `json:"ratio_max_round"`
	// Goal is issue 7's target ratio, 0 when there is none.
	Goal     float64 `json:"goal,omitempty"`
	Requests uint64  `json:"requests_200"`
	Non200   uint64  `json:"non_200"`
	Errors   uint64  `json:"transport_errors"`
	// CPUPerReqUs is process CPU per answered request, load generator included (a
	// database server's own CPU is not: it is another process). CPUOverBareUs is the part
	// of it above the bare handler's, which is what this target's server side adds per
	// request whatever the load generator costs.
	CPUPerReqUs   float64       `json:"cpu_per_req_us"`
	CPUOverBareUs float64       `json:"cpu_per_req_over_bare_us"`
	Rounds        []roundResult `json:"rounds"`
}

// roundResult is one target's figures in one round.
type roundResult struct {
	ReqPerSec float64 `json:"req_per_s"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	Requests  uint64  `json:"requests_200"`
	Non200    uint64  `json:"non_200"`
	Errors    uint64  `json:"transport_errors"`
	ElapsedS  float64 `json:"elapsed_s"`
}

// goals are the throughput goals as ratios to the bare handler: issue 7's, and issue 19's
// for the cached targets and pgstore.
var goals = map[string]float64{
	"restauth memstore": 0.85, "restauth sqlitestore": 0.5, "restauth sqlitestore +cache": 0.80,
	"restauth pgstore": 0.25, "restauth pgstore +cache": 0.70,
}

// summarize turns each target's segments (one per round, in the same round order for
// every target, the bare handler first) into results with ratios.
func summarize(names []string, segs [][]*segment) []targetResult {
	out := make([]targetResult, len(names))
	var bare segment
	for _, s := range segs[0] {
		bare.merge(s)
	}
	for i, name := range names {
		var all segment
		r := targetResult{Name: name, Goal: goals[name]}
		for round, s := range segs[i] {
			all.merge(s)
			r.Rounds = append(r.Rounds, roundResult{
				ReqPerSec: s.rate(), P50Ms: ms(s.hist.Quantile(0.5)), P99Ms: ms(s.hist.Quantile(0.99)),
				Requests: s.ok, Non200: s.nonOK(), Errors: s.errors, ElapsedS: s.elapsed.Seconds(),
			})
			if b := segs[0][round].rate(); b > 0 {
				ratio := s.rate() / b
				if round == 0 || ratio < r.RatioMin {
					r.RatioMin = ratio
				}
				r.RatioMax = max(r.RatioMax, ratio)
			}
		}
		r.ReqPerSec = all.rate()
		r.P50Ms = ms(all.hist.Quantile(0.5))
		r.P99Ms = ms(all.hist.Quantile(0.99))
		r.Requests, r.Non200, r.Errors = all.ok, all.nonOK(), all.errors
		if br := bare.rate(); br > 0 {
			r.Ratio = r.ReqPerSec / br
		}
		if all.ok > 0 {
			r.CPUPerReqUs = float64(all.cpu.Microseconds()) / float64(all.ok)
		}
		out[i] = r
	}
	for i := range out {
		out[i].CPUOverBareUs = out[i].CPUPerReqUs - out[0].CPUPerReqUs
	}
	return out
}

// printTable writes the GET table and, when there are any, the login table.
func printTable(w io.Writer, rep *report) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "GET %s, %d workers, %d rounds of %s (alternating targets)\n",
		userPath, rep.Settings.Workers, rep.Settings.Rounds, time.Duration(rep.Settings.RoundS*float64(time.Second)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\treq/s\tp50\tp99\tratio\tper-round\tgoal\terrors\tCPU/req\tover bare\t")
	for _, t := range rep.Targets {
		goal := ""
		if t.Goal > 0 {
			verdict := "met"
			if t.Ratio < t.Goal {
				verdict = "MISSED"
			}
			goal = fmt.Sprintf("≥%.2f %s", t.Goal, verdict)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f×\t%.2f–%.2f\t%s\t%d\t%.0fµs\t%+.0fµs\t\n",
			t.Name, thousands(t.ReqPerSec), fmtMs(t.P50Ms), fmtMs(t.P99Ms), t.Ratio, t.RatioMin, t.RatioMax,
			goal, t.Errors+t.Non200, t.CPUPerReqUs, t.CPUOverBareUs)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "ratio = req/s ÷ bare req/s in this run; per-round = its range over the rounds;")
	fmt.Fprintln(w, "errors = transport errors + non-200; CPU/req = this process's CPU per answer, load generator")
	fmt.Fprintln(w, "included (a database server's is not); over bare = CPU/req minus the bare handler's.")
	if len(rep.Logins) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "POST /api/auth/login/ on memstore, %d concurrent logins for %s each, rate limits, hash-queue bounds and the request deadline off\n",
		rep.Settings.LoginWorkers, time.Duration(rep.Settings.LoginS*float64(time.Second)))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "hasher\tone hash\tceiling/s\tlogins/s\tratio\tall-cores/s\tratio\tp50\tp99\tpeak RSS\t5xx\tother non-200\terrors\tcut\t")
	for _, l := range rep.Logins {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.2f×\t%.1f\t%.2f×\t%s\t%s\t%.0f MiB (%s)\t%d\t%d\t%d\t%d (%d logged)\t\n",
			l.Hasher, fmtMs(l.HashMs), l.CeilingPerSec, l.LoginsPerSec, l.RatioToCeiling, l.ParallelPerSec, l.RatioToParallel,
			fmtMs(l.P50Ms), fmtMs(l.P99Ms), l.PeakRSSMiB, l.PeakRSSScope, l.Status5xx, l.OtherNon200, l.Errors,
			l.Cut, l.CanceledLogged)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "ceiling = cores ÷ single-hash time; all-cores = hashes/s measured with every core hashing just")
	fmt.Fprintln(w, "before the round (lower when other processes load the machine); each ratio = logins/s ÷ the rate")
	fmt.Fprintln(w, "before it. cut = logins still queued when the round ended, cancelled by the client (logged = how")
	fmt.Fprintln(w, "many restauth logged as failed requests). Rate limits are off: every login comes from one")
	fmt.Fprintln(w, "address, and the default limits would answer most with 429, measuring the limiter, not logins;")
	fmt.Fprintln(w, "the hash queue's bounds (MaxQueuedHashes, MaxHashWait) would answer most 503 at once, which")
	fmt.Fprintln(w, "closed-loop clients retry without waiting for Retry-After.")
}

// writeJSON writes rep, indented, to path.
func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(b, '\n'))
}

// writeFile creates path's directory if needed and writes data.
func writeFile(path string, data []byte) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, data, 0o644)
}

// SVG layout, in pixels.
const (
	svgWidth   = 1240
	svgLabelW  = 300 // the target or hasher name, right-aligned before its bar
	svgBarMaxW = 380 // the bar of the largest ratio on the scale
	svgBarH    = 22
	svgRowH    = 34
)

// svgBar is one bar: a ratio, its goal (0 for none) and the text beside it. A bar is
// green when it meets its goal, orange when it misses it, blue without a goal.
type svgBar struct {
	label, note string
	ratio, goal float64
	reference   bool // the bare handler, drawn grey
}

// renderSVG draws the ratios as horizontal bars: GET throughput against the bare handler,
// and (when measured) logins against the hash ceiling. It is hand-written SVG with text
// labels so that it needs no dependency and reads without the JSON.
func renderSVG(rep *report) []byte {
	var get, login []svgBar
	for i, t := range rep.Targets {
		note := fmt.Sprintf("%.2f× · %s req/s · p99 %s", t.Ratio, thousands(t.ReqPerSec), fmtMs(t.P99Ms))
		get = append(get, svgBar{label: t.Name, note: note, ratio: t.Ratio, goal: t.Goal, reference: i == 0})
	}
	for _, l := range rep.Logins {
		note := fmt.Sprintf("%.2f× · %.1f of %.1f/s · %.2f× all-cores rate · peak RSS %.0f MiB · %d 5xx",
			l.RatioToCeiling, l.LoginsPerSec, l.CeilingPerSec, l.RatioToParallel, l.PeakRSSMiB, l.Status5xx)
		login = append(login, svgBar{label: l.Hasher, note: note, ratio: l.RatioToCeiling, goal: 1})
	}

	var body strings.Builder
	y := 0
	section := func(title string, bars []svgBar) {
		y += 30
		fmt.Fprintf(&body, `<text x="16" y="%d" class="h">%s</text>`+"\n", y, esc(title))
		y += 12
		scale := 1.0 // ratios around 1 are the point of the chart: 1.0 is always on it
		for _, bar := range bars {
			scale = max(scale, bar.ratio, bar.goal)
		}
		top := y
		x0 := svgLabelW + 16
		for _, bar := range bars {
			w := int(bar.ratio / scale * svgBarMaxW)
			class := "met"
			switch {
			case bar.reference:
				class = "ref"
			case bar.goal == 0:
				class = "nogoal"
			case bar.ratio < bar.goal:
				class = "miss"
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d" class="l">%s</text>`+"\n", x0-8, y+16, esc(bar.label))
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%d" height="%d" class="%s"/>`+"\n", x0, y, max(w, 1), svgBarH, class)
			// Notes sit in a column of their own, right of the longest possible bar, so no
			// text crosses a bar, the 1.0 line or a goal line.
			fmt.Fprintf(&body, `<text x="%d" y="%d" class="v">%s</text>`+"\n", x0+svgBarMaxW+14, y+16, esc(bar.note))
			if bar.goal > 0 && bar.goal != 1 && !bar.reference { // 1 is drawn for every section
				gx := x0 + int(bar.goal/scale*svgBarMaxW)
				fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="goal"/>`+"\n", gx, y-3, gx, y+svgBarH+3)
			}
			y += svgRowH
		}
		one := x0 + int(1/scale*svgBarMaxW)
		fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="one"/>`+"\n", one, top-4, one, y-svgRowH+svgBarH+4)
		fmt.Fprintf(&body, `<text x="%d" y="%d" class="s">1.0</text>`+"\n", one-8, y+4)
	}
	section(fmt.Sprintf("GET %s: req/s ÷ bare net/http handler, same run (dashed: goal)", userPath), get)
	if len(login) > 0 {
		y += 10
		section(fmt.Sprintf("POST /api/auth/login/, %d concurrent: logins/s ÷ (cores ÷ single-hash time)", rep.Settings.LoginWorkers), login)
	}
	y += 28
	m := rep.Machine
	fmt.Fprintf(&body, `<text x="16" y="%d" class="s">%s</text>`+"\n", y, esc(fmt.Sprintf(
		"%s · %d CPUs (%s) · %s · load average at start %s · ratios are what compare; absolute figures depend on the machine and its load",
		rep.Started.UTC().Format("2006-01-02 15:04 UTC"), m.NumCPU, m.CPUModel, m.GoVersion, m.LoadAtStart)))
	height := y + 16

	var out strings.Builder
	fmt.Fprintf(&out, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		svgWidth, height, svgWidth, height)
	out.WriteString(`<style>.h{font-weight:bold;font-size:14px}.l{text-anchor:end}.v{fill:#333}.s{fill:#666;font-size:11px}` +
		`.met{fill:#3a7d44}.miss{fill:#d9822b}.nogoal{fill:#4a78b5}.ref{fill:#999}.goal{stroke:#b00;stroke-width:2;stroke-dasharray:4 3}` +
		`.one{stroke:#444;stroke-width:1}</style>` + "\n")
	fmt.Fprintf(&out, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	out.WriteString(body.String())
	out.WriteString("</svg>\n")
	return []byte(out.String())
}

// esc escapes text for an SVG text node.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtMs prints milliseconds with a unit that keeps three significant digits or so.
func fmtMs(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }

// fmtDur prints d as µs, ms or s, whichever reads best.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", ms(d))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// thousands prints v rounded, with thousands separators: 41234.6 → "41,235".
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg is the first three fields of /proc/loadavg (1, 5 and 15 minutes), or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
