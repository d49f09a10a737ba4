package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// The sign-in page is plain HTML and works without JavaScript. Its style
// sheet is inline and allowed by its hash, so the page's Content Security
// Policy allows nothing else: no script, no frame, no other origin.
const pageCSS = `
:root { color-scheme: light; --ink: #1d2733; --soft: #5a6676; --line: #d5dbe3; --accent: #0b6e8a; --bg: #f4f6f8; --warn: #8a4b00; --bad: #a3261b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 30rem; margin: 0 auto; padding: 2.5rem 1.25rem 3rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 1.5rem 1.25rem; }
h1 { font-size: 1.4rem; line-height: 1.3; margin: 0 0 .75rem; font-weight: 600; }
p { margin: 0 0 1rem; }
.who { color: var(--soft); }
.note { border-left: 3px solid var(--warn); padding: .25rem 0 .25rem .75rem; color: var(--warn); font-size: .95rem; }
.problem { border-left: 3px solid var(--bad); padding: .25rem 0 .25rem .75rem; color: var(--bad); }
label.key { display: block; font-weight: 600; margin: 1.25rem 0 .35rem; }
input[type=password] { width: 100%; font: inherit; padding: .7rem .8rem; border: 1px solid #aab4c0; border-radius: 8px; background: #fff; }
input[type=password]:focus, .choice input:focus-visible, button:focus-visible { outline: 3px solid #9cd3e2; outline-offset: 1px; }
.hint { color: var(--soft); font-size: .9rem; margin: .4rem 0 1.25rem; }
fieldset { border: 0; margin: 0 0 1.25rem; padding: 0; }
legend { font-weight: 600; padding: 0; margin-bottom: .5rem; }
.choice { display: flex; gap: .7rem; align-items: flex-start; border: 1px solid var(--line); border-radius: 8px; padding: .8rem; margin-bottom: .6rem; cursor: pointer; }
.choice input { margin-top: .3rem; width: 1.1rem; height: 1.1rem; accent-color: var(--accent); flex: none; }
.choice span { display: block; }
.choice small { display: block; color: var(--soft); font-size: .9rem; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; border-radius: 8px; padding: .7rem 1.4rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.small { color: var(--soft); font-size: .85rem; margin: 1.25rem 0 0; }
`

var (
	pageCSSHash = func() string {
		sum := sha256.Sum256([]byte(pageCSS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
	pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<div class="card">
{{- if .Form}}
<h1>{{.Title}}</h1>
<p class="who"><strong>{{.ClientStart}}</strong> is asking to use {{if .Demo}}the demo Skimmer account on this server{{else}}your company's Skimmer account{{end}}. When you connect, you go back to <strong>{{.Host}}</strong>.</p>
{{- if .Loopback}}
<p class="note">{{.ClientStart}} runs on this computer ({{.Host}}). Connect only if you started it yourself just now.</p>
{{- end}}
{{- if .Demo}}
<p class="note">This is a demo account with made-up customers, not a real Skimmer account. No key is needed: type anything, or nothing, and press Connect.</p>
{{- end}}
{{- if .Problem}}
<p class="problem" role="alert">{{.Problem}}</p>
{{- end}}
<form method="post" action="/authorize">
<input type="hidden" name="pending" value="{{.Pending}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label class="key" for="key">Skimmer API key{{if .Demo}} (not needed for the demo){{end}}</label>
<input id="key" name="key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false"{{if not .Demo}} required{{end}} autofocus>
{{- if .Demo}}
<p class="hint">Whatever you type here is dropped, never kept or sent anywhere: every demo sign-in uses the demo account.</p>
{{- else}}
<p class="hint">The API key Skimmer issued to your company. If you do not have it, ask whoever manages your company's Skimmer account, or Skimmer's support (help.getskimmer.com).</p>
{{- end}}
<fieldset>
<legend>What may {{.Client}} do?</legend>
<label class="choice"><input type="radio" name="access" value="read"{{if not .WriteChecked}} checked{{end}}><span>Read only<small>Look up customers and their activity. Nothing in Skimmer changes.</small></span></label>
{{- if .WriteAllowed}}
<label class="choice"><input type="radio" name="access" value="write"{{if .WriteChecked}} checked{{end}}><span>Read and change<small>Also add and update customers, deactivate them, and log calls, texts and notes.{{if .Confirmed}} Every change is shown to you before it is made.{{end}}</small></span></label>
{{- else if .ReadOnlyServer}}
<p class="hint">This server only reads: nothing in Skimmer can be changed through it.</p>
{{- end}}
</fieldset>
<div class="actions">
<button type="submit" name="action" value="connect">Connect</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>
{{- if not .Demo}}
<p class="small">Your key is checked with Skimmer once, then kept encrypted. {{.ClientStart}} never sees it.</p>
{{- end}}
{{- else}}
<h1>{{.Title}}</h1>
<p class="problem" role="alert">{{.Problem}}</p>
<p>Go back to the app and connect again. If this keeps happening, tell whoever runs this server.</p>
{{- end}}
</div>
</main>
</body>
</html>
`))
)

type pageData struct {
	Title        string
	CSS          template.CSS
	Form         bool
	Client       string // the app's name, or "this app": mid-sentence
	ClientStart  string // the same, to start a sentence
	Host         string
	Loopback     bool
	Problem      string
	Pending      string
	CSRF         string
	WriteAllowed bool
	WriteChecked bool
	Confirmed    bool
	// ReadOnlyServer: the server offers only its read tools, so reading
	// is all the page offers, and it says why.
	ReadOnlyServer bool
	// Demo: the server's demo account, which takes no key.
	Demo bool
}

// pageHeaders keep the page from being framed, cached, or telling anyone
// where it was (a Referer), and allow it nothing but its own style sheet
// and its form, whose answer redirects to the client.
func pageHeaders(w http.ResponseWriter, redirect string) {
	formAction := "'self'"
	if u, err := url.Parse(redirect); err == nil && redirect != "" {
		if u.Host != "" {
			formAction += " " + u.Scheme + "://" + u.Host
		} else {
			formAction += " " + u.Scheme + ":"
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+pageCSSHash+"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func renderPage(w http.ResponseWriter, status int, d pageData, redirect string) {
	d.CSS = template.CSS(pageCSS)
	pageHeaders(w, redirect)
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, d)
}

// errorPage is for a request that cannot be sent back to the client,
// because the client or its redirect is not known.
func errorPage(w http.ResponseWriter, status int, problem string) {
	renderPage(w, status, pageData{Title: "This sign-in link does not work", Problem: sentence(problem)}, "")
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
