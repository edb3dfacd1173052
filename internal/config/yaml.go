package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)

// yamlError rewrites the YAML decoder's messages into "file line N: unknown key
// "tokn" (known keys: ...)", so the user sees what to type instead.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{Key: path, Problem: err.Error(), Fix: "check the YAML syntax"}
	}
	var problems []string
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			known := yamlKeys(m[3])
			hint := ""
			if n := catalog.Nearest(m[2], known); n != "" {
				hint = fmt.Sprintf(", did you mean %q?", n)
			}
			problems = append(problems, fmt.Sprintf("line %s: unknown key %q%s (known keys: %s)", m[1], m[2], hint, strings.Join(known, ", ")))
			continue
		}
		problems = append(problems, e)
	}
	return &Error{Key: path, Problem: strings.Join(problems, "; "), Fix: "see config.example.yaml"}
}

func yamlKeys(typeName string) []string {
	types := map[string]reflect.Type{
		"file": reflect.TypeFor[file](), "fileSync": reflect.TypeFor[fileSync](),
		"fileTenant": reflect.TypeFor[fileTenant](), "fileOverride": reflect.TypeFor[fileOverride](),
		"fileAPI": reflect.TypeFor[fileAPI](), "filePaging": reflect.TypeFor[filePaging](),
		"fileDateFilter": reflect.TypeFor[fileDateFilter](), "fileMessages": reflect.TypeFor[fileMessages](),
	}
	t, ok := types[typeName]
	if !ok {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		keys = append(keys, tag)
	}
	return keys
}
