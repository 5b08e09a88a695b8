package prove

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one run of herd prove found, as written to
// report.json and drawn in report.html.
type Report struct {
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Target     string    `json:"target"`
	Replicas   []string  `json:"replicas,omitempty"`
	Controlled bool      `json:"controlled"`
	Settings   Config    `json:"settings"`
	// Verdict is FAIL when any scenario failed, else PASS.
	Verdict   Verdict  `json:"verdict"`
	Scenarios []Result `json:"scenarios"`
	Timeline  []Point  `json:"timeline"`
	Events    []Marker `json:"events"`
	Phases    []Phase  `json:"phases"`
}

func (r *Report) failed() int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Verdict == Fail {
			n++
		}
	}
	return n
}

// writeTable prints the terminal summary: one line per scenario with its
// figures, then the first errors of those that failed.
func writeTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tVERDICT\tFIGURES")
	for _, s := range r.Scenarios {
		var figs []string
		for _, f := range s.Figures {
			figs = append(figs, fmt.Sprintf("%s: %v", f.Name, f.Value))
		}
		if len(figs) == 0 {
			figs = []string{s.Summary}
		}
		for i, f := range figs {
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Verdict, f)
			} else {
				fmt.Fprintf(tw, "\t\t%s\n", f)
			}
		}
	}
	tw.Flush()
	for _, s := range r.Scenarios {
		if s.Verdict == Skip {
			fmt.Fprintf(w, "%s skipped: %s\n", s.Name, s.Summary)
		}
		if s.Verdict != Fail {
			continue
		}
		fmt.Fprintf(w, "\n%s FAILED:\n", s.Name)
		for _, e := range s.Errors {
			fmt.Fprintf(w, "  - %s\n", e)
		}
	}
	fmt.Fprintf(w, "\nherd prove: %s (%d of %d scenarios failed) against %s\n", r.Verdict, r.failed(), len(r.Scenarios), r.Target)
}

// writeReports writes report.json and report.html into dir.
func writeReports(dir string, r *Report) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	jsonPath := filepath.Join(dir, "report.json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(jsonPath, b, 0o644); err != nil {
		return "", "", err
	}
	var html strings.Builder
	if err := writeHTML(&html, r); err != nil {
		return "", "", err
	}
	htmlPath := filepath.Join(dir, "report.html")
	if err := os.WriteFile(htmlPath, []byte(html.String()), 0o644); err != nil {
		return "", "", err
	}
	return jsonPath, htmlPath, nil
}
