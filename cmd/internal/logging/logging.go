// Package logging builds the commands' slog loggers: human-readable (tint)
// for people, JSON for log pipelines.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
)

// Formats are the values --log-format takes.
const Formats = "text, json"

// New returns a logger writing to w at level. "text" is tint's format,
// coloured when w is a terminal and NO_COLOR is unset, plain otherwise;
// "json" is one JSON object a line.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(tint.NewHandler(w, &tint.Options{
			Level:      lv,
			TimeFormat: time.TimeOnly,
			NoColor:    !colour(w),
		})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: readableDurations})), nil
	}
	return nil, fmt.Errorf("log format %q: use %s", format, Formats)
}

// colour reports whether w is a terminal that wants colour.
func colour(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readableDurations writes a duration as Go prints it ("10s", "1.5ms"),
// as the text format does, instead of slog's JSON default of integer
// nanoseconds ("limit":10000000000), which a person reading a log
// pipeline's view has to count the zeros of.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
