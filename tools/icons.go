package tools

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/mark3labs/mcp-go/mcp"
)

// Icons are drawn here, white shapes on a rounded teal square, and sent
// as PNG data URIs: PNG is the one format every client must show, and the
// binary carries no image files and fetches nothing. They are for the
// host's window, not the model's context: BenchmarkContext reports their
// bytes apart from the tokens.
//
// They are drawn when the drawings change, not each time the server
// starts: three PNG encoders at their best compression cost every process
// 2.6 MB of garbage and a few milliseconds before it could serve. The
// drawings below are the source; icons_png.go holds what they give, and
// TestIconFiles fails when it does not (go generate ./tools redraws it).
//
//go:generate go test -run ^TestIconFiles$ -update .

// Icon is an image shown beside a server, tool, resource or prompt.
type Icon = mcp.Icon

var (
	serverIcon   = pngIcon("48x48", serverIconPNG)
	customerIcon = pngIcon("32x32", customerIconPNG)
	activityIcon = pngIcon("32x32", activityIconPNG)
)

func pngIcon(size, base64PNG string) Icon {
	return Icon{Src: "data:image/png;base64," + base64PNG, MIMEType: "image/png", Sizes: []string{size}}
}

// drawing is one icon as code: the constant in icons_png.go that holds
// it, and how it is drawn.
type drawing struct {
	name   string
	size   int
	levels int
	glyph  func(x, y float64) bool
}

// drawings are the icons. Only TestIconFiles draws them.
func drawings() []drawing {
	return []drawing{
		// The server's own, water, shown once per connection: larger and
		// smoother than the others.
		{"serverIconPNG", 48, 8, func(x, y float64) bool {
			wave := func(mid float64) bool {
				return x > 0.18 && x < 0.82 && math.Abs(y-(mid+0.05*math.Sin(2*math.Pi*(x-0.18)/0.32))) < 0.045
			}
			return wave(0.36) || wave(0.52) || wave(0.68)
		}},
		// Customers: a person.
		{"customerIconPNG", 32, 4, func(x, y float64) bool {
			head := sq(x-0.5)+sq(y-0.36) < sq(0.13)
			body := sq((x-0.5)/0.25)+sq((y-0.80)/0.27) < 1 && y < 0.76
			return head || body
		}},
		// Activity logs: a speech bubble with three dots cut out.
		{"activityIconPNG", 32, 4, func(x, y float64) bool {
			bubble := roundRect(x, y, 0.2, 0.24, 0.8, 0.64, 0.1)
			tail := y >= 0.6 && y < 0.8 && x > 0.3 && x < 0.3+0.16*(0.8-y)/0.2
			dot := false
			for _, cx := range []float64{0.35, 0.5, 0.65} {
				dot = dot || sq(x-cx)+sq(y-0.44) < sq(0.05)
			}
			return (bubble || tail) && !dot
		}},
	}
}

var iconTeal = color.NRGBA{R: 0x0b, G: 0x73, B: 0x82, A: 0xff}

// draw renders the glyph, given as a test on the unit square, over the
// background, size pixels square, sampling each pixel 4×4 times for
// smooth edges, and returns the PNG in base64. Coverage is rounded to a
// few levels, for the background and the glyph each, so the PNG is
// paletted and small: a tool's icon repeats in every tools/list answer.
func (d drawing) draw() string {
	size, levels, glyph := d.size, d.levels, d.glyph
	const samples = 4
	var pal color.Palette
	index := map[[2]int]uint8{}
	img := image.NewPaletted(image.Rect(0, 0, size, size), nil)
	for py := range size {
		for px := range size {
			var bg, fg int
			for sy := range samples {
				for sx := range samples {
					x := (float64(px) + (float64(sx)+0.5)/samples) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/samples) / float64(size)
					if roundRect(x, y, 0, 0, 1, 1, 0.2) {
						bg++
						if glyph(x, y) {
							fg++
						}
					}
				}
			}
			key := [2]int{bg * levels / (samples * samples), 0}
			if bg > 0 {
				key[1] = fg * levels / bg
			}
			i, ok := index[key]
			if !ok {
				t := float64(key[1]) / float64(levels)
				mix := func(c uint8) uint8 { return uint8(float64(c) + (255-float64(c))*t + 0.5) }
				pal = append(pal, color.NRGBA{R: mix(iconTeal.R), G: mix(iconTeal.G), B: mix(iconTeal.B), A: uint8(255 * key[0] / levels)})
				i = uint8(len(pal) - 1)
				index[key] = i
			}
			img.SetColorIndex(px, py, i)
		}
	}
	img.Palette = pal
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		panic("tools: drawing an icon: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func sq(v float64) float64 { return v * v }

// roundRect reports whether (x, y) is inside the rectangle with corners
// rounded to radius r.
func roundRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return sq(x-cx)+sq(y-cy) <= sq(r)
}
