package httpdebug

import (
	"html/template"
	"path"
	"strings"

	"github.com/amqpleaks/amqpleaks/detect"
)

var funcs = template.FuncMap{
	"headline":  headline,
	"plural":    plural,
	"wait":      waitText,
	"base":      path.Base,
	"tieText":   tieText,
	"objState":  objState,
	"siteText":  siteText,
	"spark":     func(c []int) string { return sparkline(c, 120, 28) },
	"countText": countsText,
	"labels":    labelText,
	"upper":     strings.ToUpper,
	"count":     countFindings,
	"sevOf":     func(s detect.Severity) string { return s.String() },
	"isURL":     func(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") },
	"safeURL":   func(s string) template.URL { return template.URL(s) },
	"every":     func(g *Growth) string { return ago(secondsDur(g.Every)) },
	"args": func(p *Page, f *detect.Finding, t *Tie) findingArgs {
		return findingArgs{P: p, F: f, T: t}
	},
}

// findingArgs is what the "finding" template shows.
type findingArgs struct {
	P *Page
	F *detect.Finding
	T *Tie
}

var htmlPage = template.Must(template.New("page").Funcs(funcs).Parse(htmlStyle + htmlTemplate))
var rulePageTmpl = template.Must(template.New("rule").Funcs(funcs).Parse(htmlStyle + ruleTemplate))

const htmlStyle = `{{define "style"}}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 16px/1.45 system-ui, -apple-system, sans-serif; margin: 0 auto; max-width: 60em; padding: .5em 1em 3em; color: #1d1d1f; }
h1 { font-size: 1.35em; margin: .6em 0 .2em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin: .2em 0; }
code, pre, .frames { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
pre { background: #f5f5f7; padding: .6em; overflow-x: auto; white-space: pre; }
.finding { border: 1px solid #ddd; border-left: 6px solid #888; border-radius: 6px; margin: 1em 0; padding: .5em .9em; }
.finding.critical { border-left-color: #c62828; } .finding.warning { border-left-color: #b26a00; } .finding.info { border-left-color: #00796b; }
.sev { font-weight: bold; padding: 0 .4em; border-radius: 4px; color: #fff; font-size: .85em; }
.sev.critical { background: #c62828; } .sev.warning { background: #b26a00; } .sev.info { background: #00796b; }
.ok { background: #e8f5e9; border: 1px solid #2e7d32; padding: .5em .9em; border-radius: 6px; }
.error { background: #fdecea; border: 1px solid #c62828; padding: .5em; border-radius: 6px; }
.muted { color: #555; } .small { font-size: .9em; }
.frames div { white-space: pre-wrap; } .app { font-weight: bold; color: #0d47a1; } .runtime { color: #777; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; } td, th { padding: .2em .5em; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #ccc; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: .4em 0; } summary { cursor: pointer; }
svg.spark { vertical-align: middle; background: #fafafa; border: 1px solid #e0e0e0; }
nav a { margin-right: .8em; }
</style>{{end}}`

const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
{{template "style"}}
<title>amqpleaks: {{with .Report}}{{len .Findings}} finding{{if ne (len .Findings) 1}}s{{end}}{{else}}error{{end}}</title>
</head>
<body>
<h1>amqpleaks — live AMQP leak check</h1>
<p class="muted small">{{.Input}}, {{.AgeLine}}; {{.CostLine}}.</p>
<nav class="small"><a href="{{.Link "profile" ""}}">Refresh</a><a href="{{.Link "full" ""}}">Full dump (?mode=full)</a><a href="{{.Link .Mode "json"}}">JSON</a><a href="{{.Link .Mode "text"}}">Text</a></nav>
{{if .Error}}<p class="error">Reading the capture failed: {{.Error}}</p>{{end}}
{{range .Warnings}}<p class="muted small">Warning: {{.}}</p>{{end}}
{{with .Report}}
<p id="headline"><b>{{headline .}}</b></p>
{{if not .Findings}}<p class="ok" id="no-findings">No known AMQP leak or stuck shutdown in the goroutines.</p>{{end}}
{{range .Unknown}}<p class="muted small">This mode cannot show {{.}}.</p>{{end}}
{{end}}
{{$p := .}}
{{with .Report}}{{range $i, $f := .Findings}}{{template "finding" (args $p $f ($p.Tie $i))}}{{end}}{{end}}

{{with .Tracked}}
<h2 id="tracked">Tracked connections and channels</h2>
{{if .Findings}}<p>{{count .Findings}} that goroutine stacks cannot show:</p>{{else}}<p class="ok">Nothing wrong with the tracked objects.</p>{{end}}
{{range .Findings}}{{template "finding" (args $p . nil)}}{{end}}
{{if .Objects}}
<div class="scroll"><table id="objects">
<tr><th>kind</th><th>name</th><th>#</th><th>address</th><th>state</th></tr>
{{range .Objects}}<tr><td>{{.Kind}}</td><td>{{if .ConnName}}{{.ConnName}}/{{end}}{{.Name}}</td><td class="n">{{.Generation}}</td><td><code>{{.Addr}}</code></td><td>{{objState . $p.Now}}</td></tr>
{{end}}</table></div>
{{end}}
{{end}}

{{with .Growth}}
<h2 id="growth">Blocking sites over time</h2>
<p class="small muted">{{plural (len .Times) "sample"}}, one every {{every .}}, last {{.History}} kept; {{plural .Tracked "site"}} followed.
A site is flagged when every count in the newer half of the samples is above every count in the older half.</p>
{{if .LastError}}<p class="error">The last sample failed: {{.LastError}}</p>{{end}}
{{if .Growing}}
{{range .Growing}}
<div class="finding warning growing">
<h3><svg class="spark" width="120" height="28" viewBox="0 0 120 28" role="img" aria-label="{{countText .Counts}}"><title>{{countText .Counts}}</title><polyline fill="none" stroke="#c62828" stroke-width="2" points="{{spark .Counts}}"/></svg>
+{{.Growth}} goroutines, now {{.Count}} [{{.State}}]</h3>
<div class="frames">{{range siteText .Site}}<div class="{{.Kind}}">{{.Func}}{{if .File}} <span class="muted">{{base .File}}:{{.Line}}</span>{{end}}</div>{{end}}</div>
<p class="small muted">{{countText .Counts}}</p>
</div>
{{end}}
{{else}}<p class="ok">No blocking site keeps growing.</p>{{end}}
{{end}}

{{with .Report}}{{with .Summary}}
<h2 id="summary">All goroutines</h2>
<p>{{plural $p.Report.Goroutines "goroutine"}} in {{plural .GroupCount "distinct stack"}}. By state: {{range $i, $s := .ByState}}{{if $i}}, {{end}}{{$s.Count}} {{$s.State}}{{end}}.</p>
{{range .Groups}}
<details>
<summary><b>{{.Count}}</b> [{{.State}}{{if gt .MaxWait 0}}, {{.MaxWait}} min{{end}}] {{if .Top.Func}}<code class="{{.Top.Kind}}">{{.Top.Func}}</code>{{else}}(no frames){{end}}{{if .Top.File}} <span class="muted">{{base .Top.File}}:{{.Top.Line}}</span>{{end}}</summary>
{{if .IDs}}<p class="muted small">goroutines {{range $i, $id := .IDs}}{{if $i}}, {{end}}{{$id}}{{end}}</p>{{end}}
<div class="frames">{{range .Frames}}<div class="{{.Kind}}">{{.Func}}{{if .File}}
    {{.File}}:{{.Line}}{{end}}</div>{{end}}{{if .CreatedBy.Func}}<div class="{{.CreatedBy.Kind}}">created by {{.CreatedBy.Func}}
    {{.CreatedBy.File}}:{{.CreatedBy.Line}}</div>{{end}}</div>
</details>
{{end}}
{{end}}{{end}}

{{if .Labels}}
<h2 id="labels">pprof labels</h2>
<table>{{range .Labels}}<tr><td class="n">{{.Count}}</td><td><code>{{labels .Labels}}</code></td></tr>{{end}}</table>
{{end}}

<h2 id="cost">What this page costs</h2>
<p class="small">The default view reads the goroutine profile, which pauses the program for well under a millisecond at any
number of goroutines but has no goroutine IDs, wait times or addresses. {{.FullLine}}</p>
<p class="small">Every finding links to its rule. All rules:
{{range $i, $r := .Rules}}{{if $i}}, {{end}}<a href="{{$p.RuleLink $r.ID}}">{{$r.ID}}</a>{{end}}.</p>
</body>
</html>
{{define "finding"}}{{$p := .P}}{{with .F}}
<section class="finding {{sevOf .Severity}}" data-rule="{{.Rule}}">
<h3><span class="sev {{sevOf .Severity}}">{{sevOf .Severity}}</span> {{.Title}}</h3>
<p class="small">Rule <a class="rule" href="{{$p.RuleLink .Rule}}">{{.Rule}}: why it is a bug and how to fix it</a></p>
<p class="small muted">{{if .Connection}}Connection <code>{{.Connection}}</code>{{else}}Connection not shown in this mode{{end}}{{if .Channel}}, channel <code>{{.Channel}}</code>{{end}}{{if .Library}}; {{.Library}} {{.Version}}{{end}}{{if .Goroutines}}; {{plural .Count "goroutine"}}, wait {{wait .}}{{end}}</p>
{{with $.T}}<p class="tie">{{tieText .}}</p>{{end}}
<p>{{.Message}}</p>
{{if .Goroutines}}<div class="scroll"><table class="small">
<tr><th>goroutine</th><th>state</th><th>role</th><th>at</th><th>application</th></tr>
{{range .Goroutines}}{{template "ref" .}}{{end}}{{range .Collateral}}{{template "ref" .}}{{end}}
</table></div>{{end}}
{{if .Evidence}}<details><summary>Evidence (innermost first; application frames in bold)</summary>
<div class="frames">{{range .Evidence}}<div class="{{.Kind}}">{{.Func}}{{if .File}}
    {{.File}}:{{.Line}}{{end}}</div>{{end}}</div></details>{{end}}
<p><b>Fix:</b> {{.Fix}}</p>
{{if .Unknown}}<p class="small muted">This mode cannot tell: {{range $i, $u := .Unknown}}{{if $i}}; {{end}}{{$u}}{{end}}.</p>{{end}}
</section>
{{end}}{{end}}
{{define "ref"}}<tr><td>{{if .ID}}#{{.ID}}{{else}}×{{.Count}}{{end}}</td><td>{{.State}}{{if .WaitMinutes}}, {{.WaitMinutes}} min{{end}}</td><td>{{.Role}}</td><td><code>{{.At}}</code></td><td><code class="app">{{.App}}</code></td></tr>
{{end}}`

const ruleTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
{{template "style"}}
<title>{{.ID}} — amqpleaks rule</title>
</head>
<body>
<p class="small"><a href="{{.Back}}">← back to the findings</a></p>
<h1 id="rule-title"><span class="sev {{sevOf .Severity}}">{{sevOf .Severity}}</span> {{.Title}}</h1>
<p class="muted"><code>{{.ID}}</code>{{if .Live}} — proven by tracked objects (amqptrack), not by goroutine stacks{{end}}</p>
{{if .Versions}}<h2>Library versions</h2><p>{{.Versions}}</p>{{end}}
{{if .Shows}}<h2>What it looks like</h2><p>{{.Shows}}</p>{{end}}
<h2>Why it is a bug</h2><p id="why">{{.Why}}</p>
<h2>Fix</h2><p id="fix">{{.Fix}}</p>
{{if .Example}}<pre><code>{{.Example}}</code></pre>{{end}}
{{if .Limits}}<h2>What this cannot prove</h2><p>{{.Limits}}</p>{{end}}
{{if .References}}<h2>References</h2><ul>{{range .References}}<li>{{if isURL .}}<a href="{{safeURL .}}">{{.}}</a>{{else}}{{.}}{{end}}</li>{{end}}</ul>{{end}}
</body>
</html>`
