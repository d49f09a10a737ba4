package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
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

var pageCSSHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// pageData is what one page shows. Every string in it may come from a
// stranger (an app's registered name, a redirect host, a sentence about a
// request), and html writes each one escaped.
type pageData struct {
	Title        string
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
	pageHeaders(w, redirect)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, d.html())
}

// html is the page. It is written out here rather than by html/template:
// executing a template looks methods up by name at run time, and a binary
// that does so keeps every exported method of every type that could sit in
// an interface, because the linker can no longer tell which are unused
// (about 10 MB of skimmer-mcp's 27). What html/template's escaping would
// decide here is simple: every value sits in element text or in a
// double-quoted attribute, where html.EscapeString (& < > " ') is the
// whole of it; no value goes into a URL, a script, a style or an
// attribute's name. TestPageEscapesEveryValue holds that.
func (d pageData) html() string {
	e := html.EscapeString
	var b strings.Builder
	w := func(s ...string) {
		for _, p := range s {
			b.WriteString(p)
		}
	}
	w(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>`, e(d.Title), `</title>
<style>`, pageCSS, `</style>
</head>
<body>
<main>
<div class="card">`)
	if !d.Form {
		w(`
<h1>`, e(d.Title), `</h1>
<p class="problem" role="alert">`, e(d.Problem), `</p>
<p>Go back to the app and connect again. If this keeps happening, tell whoever runs this server.</p>`)
	} else {
		client, start, host := e(d.Client), e(d.ClientStart), e(d.Host)
		account := "your company's Skimmer account"
		if d.Demo {
			account = "the demo Skimmer account on this server"
		}
		w(`
<h1>`, e(d.Title), `</h1>
<p class="who"><strong>`, start, `</strong> is asking to use `, account, `. When you connect, you go back to <strong>`, host, `</strong>.</p>`)
		if d.Loopback {
			w(`
<p class="note">`, start, ` runs on this computer (`, host, `). Connect only if you started it yourself just now.</p>`)
		}
		if d.Demo {
			w(`
<p class="note">This is a demo account with made-up customers, not a real Skimmer account. No key is needed: type anything, or nothing, and press Connect.</p>`)
		}
		if d.Problem != "" {
			w(`
<p class="problem" role="alert">`, e(d.Problem), `</p>`)
		}
		w(`
<form method="post" action="/authorize">
<input type="hidden" name="pending" value="`, e(d.Pending), `">
<input type="hidden" name="csrf" value="`, e(d.CSRF), `">
<label class="key" for="key">Skimmer API key`, when(d.Demo, " (not needed for the demo)"), `</label>
<input id="key" name="key" type="password" autocomplete="off" autocapitalize="off" spellcheck="false"`, when(!d.Demo, " required"), ` autofocus>`)
		if d.Demo {
			w(`
<p class="hint">Whatever you type here is dropped, never kept or sent anywhere: every demo sign-in uses the demo account.</p>`)
		} else {
			w(`
<p class="hint">The API key Skimmer issued to your company. If you do not have it, ask whoever manages your company's Skimmer account, or Skimmer's support (help.getskimmer.com).</p>`)
		}
		w(`
<fieldset>
<legend>What may `, client, ` do?</legend>
<label class="choice"><input type="radio" name="access" value="read"`, when(!d.WriteChecked, " checked"), `><span>Read only<small>Look up customers and their activity. Nothing in Skimmer changes.</small></span></label>`)
		if d.WriteAllowed {
			w(`
<label class="choice"><input type="radio" name="access" value="write"`, when(d.WriteChecked, " checked"), `><span>Read and change<small>Also add and update customers, deactivate them, and log calls, texts and notes.`,
				when(d.Confirmed, " Every change is shown to you before it is made."), `</small></span></label>`)
		} else if d.ReadOnlyServer {
			w(`
<p class="hint">This server only reads: nothing in Skimmer can be changed through it.</p>`)
		}
		w(`
</fieldset>
<div class="actions">
<button type="submit" name="action" value="connect">Connect</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>`)
		if !d.Demo {
			w(`
<p class="small">Your key is checked with Skimmer once, then kept encrypted. `, start, ` never sees it.</p>`)
		}
	}
	w(`
</div>
</main>
</body>
</html>
`)
	return b.String()
}

// when is s if cond holds, else nothing.
func when(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
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
