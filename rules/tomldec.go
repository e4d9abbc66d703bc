package rules

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// UnknownField is a key in a TOML document that the target type has no
// field for.
type UnknownField struct {
	Key  string // dotted, e.g. "rules.allowlist.regexTarget"
	Line int
}

func (u UnknownField) String() string { return fmt.Sprintf("line %d: %s", u.Line, u.Key) }

// DecodeTOML decodes data into v. Keys v has no field for are returned,
// not treated as an error, so each caller decides whether they are fatal.
// A syntax or type error reads "line N: message (key a.b)".
func DecodeTOML(data []byte, v any) ([]UnknownField, error) {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		out := make([]UnknownField, 0, len(strict.Errors))
		for i := range strict.Errors {
			line, _ := strict.Errors[i].Position()
			out = append(out, UnknownField{Key: strings.Join(strict.Errors[i].Key(), "."), Line: line})
		}
		return out, nil
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			return nil, fmt.Errorf("line %d: %s (key %s)", line, msg, strings.Join(k, "."))
		}
		return nil, fmt.Errorf("line %d: %s", line, msg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	return nil, nil
}
