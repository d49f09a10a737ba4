package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// icon draws the bundle's icon, size×size pixels: pool water in a rounded
// square, three white waves across it. Drawn here rather than kept as a
// binary file, so it is the same on every build and reviewable as code.
func icon(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	radius := s * 0.22
	top := [3]float64{56, 189, 248}   // sky blue
	bottom := [3]float64{3, 105, 161} // deep pool blue
	waves := []struct{ y, amp, phase float64 }{
		{0.36, 0.035, 0.0},
		{0.54, 0.035, 1.9},
		{0.72, 0.035, 3.8},
	}
	thickness := s * 0.045
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			x, y := float64(px)+0.5, float64(py)+0.5
			inside := coverage(roundedRectDistance(x, y, s, radius))
			if inside == 0 {
				continue
			}
			t := y / s
			r, g, b := mix(top[0], bottom[0], t), mix(top[1], bottom[1], t), mix(top[2], bottom[2], t)
			white := 0.0
			for _, w := range waves {
				k := 2 * math.Pi * 1.5 / s // one and a half waves across
				f := w.y*s + w.amp*s*math.Sin(k*x+w.phase)
				slope := w.amp * s * k * math.Cos(k*x+w.phase)
				d := math.Abs(y-f)/math.Sqrt(1+slope*slope) - thickness/2
				white = math.Max(white, coverage(d))
			}
			r, g, b = mix(r, 255, white), mix(g, 255, white), mix(b, 255, white)
			img.SetNRGBA(px, py, color.NRGBA{uint8(r + 0.5), uint8(g + 0.5), uint8(b + 0.5), uint8(255*inside + 0.5)})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

// roundedRectDistance is the signed distance from (x, y) to the edge of
// the size×size square with corners of the given radius: negative inside.
func roundedRectDistance(x, y, size, radius float64) float64 {
	half := size / 2
	qx := math.Abs(x-half) - (half - radius)
	qy := math.Abs(y-half) - (half - radius)
	outside := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	return outside + math.Min(math.Max(qx, qy), 0) - radius
}

// coverage turns a signed distance into how much of a pixel a shape covers.
func coverage(d float64) float64 { return math.Min(1, math.Max(0, 0.5-d)) }

func mix(a, b, t float64) float64 { return a + (b-a)*t }
