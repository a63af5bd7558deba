package main

import (
	"fmt"
	"html/template"
	"io"
	"path"

	"github.com/amqpleaks/amqpleaks/detect"
)

// htmlRenderer writes one self-contained HTML page for all inputs: inline
// CSS, no script, no external asset.
type htmlRenderer struct {
	w       io.Writer
	results []*result
}

func (h *htmlRenderer) add(res *result) error {
	h.results = append(h.results, res)
	return nil
}

func (h *htmlRenderer) close() error {
	return htmlPage.Execute(h.w, h.results)
}

var htmlPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"headline":   headline,
	"plural":     plural,
	"wait":       waitText,
	"base":       path.Base,
	"errText":    oneLine,
	"sites":      siteLines,
	"groupFrame": groupFrame,
	"findings": func(r *result) []*detect.Finding {
		if r.Diff != nil {
			return r.Diff.New
		}
		return r.Report.Findings
	},
	"signed": func(n int) string { return fmt.Sprintf("%+d", n) },
}).Parse(htmlTemplate))

const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stackscan report</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
code, pre, .frames { font: 13px/1.4 ui-monospace, monospace; }
details { border: 1px solid #ddd; border-radius: 6px; margin: .8em 0; padding: .4em .8em; }
summary { cursor: pointer; }
.sev { font-weight: bold; padding: 0 .4em; border-radius: 4px; color: #fff; }
.critical { background: #c62828; } .warning { background: #b26a00; } .info { background: #00796b; }
.error { background: #fdecea; border: 1px solid #c62828; padding: .5em; border-radius: 6px; }
.frames div { white-space: pre-wrap; } .app { font-weight: bold; color: #0d47a1; } .runtime { color: #888; }
table { border-collapse: collapse; } td, th { padding: .15em .6em; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #ccc; } td.n { text-align: right; }
.muted { color: #666; }
</style>
</head>
<body>
<h1>stackscan report</h1>
{{range .}}{{$r := .}}
<section>
<h2>{{.Input}}</h2>
{{if .Err}}<p class="error">{{if .Report}}Partial report: reading stopped at an error: {{end}}{{errText .Err}}</p>{{end}}
{{with .Report}}
<p>{{headline .}}</p>
{{range .Unknown}}<p class="muted">This input cannot show {{.}}.</p>{{end}}
{{end}}
{{if .Diff}}<h3>Compared with {{.Base}}</h3>{{template "diff" .}}{{end}}
{{if .Report}}
{{range $i, $f := findings .}}
<details open>
<summary><span class="sev {{.Severity}}">{{.Severity}}</span> <code>{{.Rule}}</code> {{.Title}}
— {{plural .Count "goroutine"}}, {{wait .}}</summary>
<p>{{if .Connection}}Connection <code>{{.Connection}}</code>{{else}}Connection not shown in this dump{{end}}{{if .Channel}}, channel <code>{{.Channel}}</code>{{end}};
{{.Library}} {{.Version}}</p>
<p>{{.Message}}</p>
<table>
<tr><th>goroutine</th><th>state</th><th>role</th><th>at</th><th>application</th></tr>
{{range .Goroutines}}{{template "ref" .}}{{end}}
{{range .Collateral}}{{template "ref" .}}{{end}}
</table>
<p>Evidence, innermost first (application frames in bold):</p>
<div class="frames">{{range .Evidence}}<div class="{{.Kind}}">{{.Func}}{{if .File}}
    {{.File}}:{{.Line}}{{end}}</div>{{end}}</div>
<p><b>Why:</b> {{.Why}}</p>
<p><b>Fix:</b> {{.Fix}}</p>
{{if and .VersionNote (not .Version)}}<p><b>Version:</b> {{.VersionNote}}</p>{{end}}
{{if .Unknown}}<p><b>This dump cannot tell:</b></p><ul>{{range .Unknown}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p class="muted">stackscan -explain {{.Rule}} tells more.</p>
</details>
{{end}}
{{with .Report.Summary}}
<h3>Summary: {{plural $r.Report.Goroutines "goroutine"}} in {{plural .GroupCount "distinct stack"}}</h3>
<p>By state: {{range $i, $s := .ByState}}{{if $i}}, {{end}}{{$s.Count}} {{$s.State}}{{end}}</p>
{{range .Groups}}
<details>
<summary><b>{{.Count}}</b> [{{.State}}{{if gt .MaxWait 0}}, {{if gt .MaxWait .MinWait}}{{.MinWait}}-{{end}}{{.MaxWait}} min{{end}}]
{{with groupFrame .}}<code class="{{.Kind}}">{{.Func}}</code>{{if .File}} <span class="muted">{{base .File}}:{{.Line}}</span>{{end}}{{end}}</summary>
{{if .IDs}}<p class="muted">goroutines {{range $i, $id := .IDs}}{{if $i}}, {{end}}{{$id}}{{end}}</p>{{end}}
<div class="frames">{{range .Frames}}<div class="{{.Kind}}">{{.Func}}{{if .File}}
    {{.File}}:{{.Line}}{{end}}</div>{{end}}{{if .CreatedBy.Func}}<div class="{{.CreatedBy.Kind}}">created by {{.CreatedBy.Func}}
    {{.CreatedBy.File}}:{{.CreatedBy.Line}}</div>{{end}}</div>
</details>
{{end}}
{{end}}
{{end}}
</section>
{{end}}
</body>
</html>
{{define "ref"}}<tr><td>{{if .ID}}#{{.ID}}{{else}}×{{.Count}}{{end}}</td><td>{{.State}}{{if .WaitMinutes}}, {{.WaitMinutes}} min{{end}}</td><td>{{.Role}}</td><td><code>{{.At}}</code></td><td><code class="app">{{.App}}</code></td></tr>
{{end}}
{{define "diff"}}{{with .Diff}}
<p>{{.BaseGoroutines}} → {{.Goroutines}} goroutines; {{len .New}} new, {{len .Resolved}} resolved, {{.Persisting}} persisting findings.</p>
{{range .Notes}}<p class="muted">Note: {{.}}</p>{{end}}
{{if .Grown}}
<table>
<tr><th>base</th><th>now</th><th>delta</th><th>state</th><th>site</th></tr>
{{range .Grown}}<tr><td class="n">{{.Base}}</td><td class="n">{{.Count}}</td><td class="n"><b>{{signed .Delta}}</b></td><td>{{.State}}</td>
<td class="frames">{{range sites .Site}}<div class="{{.Kind}}">{{.Text}}</div>{{end}}</td></tr>
{{end}}
</table>
{{else}}<p>No waiting site grew.</p>{{end}}
{{range .Resolved}}<p>Resolved: {{.Severity}} <code>{{.Rule}}</code>{{if .Connection}} on connection <code>{{.Connection}}</code>{{end}}</p>{{end}}
{{if .New}}<h3>New findings since the base</h3>{{end}}
{{end}}{{end}}
`
