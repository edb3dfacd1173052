package config

import (
	"errors"
	"maps"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// fileAPI is an api: section, globally or in a tenant: the parts of the wire
// dialect it sets (see catalog.Dialect); what it leaves out stays as it was.
type fileAPI struct {
	DateFilter *fileDateFilter              `yaml:"date_filter"`
	Lists      *filePaging                  `yaml:"lists"`
	Activity   *filePaging                  `yaml:"activity"`
	Messages   *fileMessages                `yaml:"messages"`
	Fields     map[string]map[string]string `yaml:"fields"`
}

type fileDateFilter struct {
	Body     *string `yaml:"body"`
	Encoding *string `yaml:"encoding"`
}

type fileMessages struct {
	ConversationParam *string `yaml:"conversation_param"`
}

type filePaging struct {
	PageParam *string `yaml:"page_param"`
	SizeParam *string `yaml:"size_param"`
	FirstPage *int    `yaml:"first_page"`
	PageSize  *int    `yaml:"page_size"`
	SortParam *string `yaml:"sort_param"`
	Sort      *string `yaml:"sort"`
	Items     *string `yaml:"items"`
}

// apply returns base with the section's settings, validated; prefix is the
// section's key (api. or tenants[0].api.) for error messages.
func (a *fileAPI) apply(base catalog.Dialect, prefix string) (catalog.Dialect, error) {
	d := base
	d.Fields = map[string]map[string]string{}
	for kind, fields := range base.Fields {
		d.Fields[kind] = maps.Clone(fields)
	}
	if a != nil {
		if f := a.DateFilter; f != nil {
			setIf(&d.DateFilter.Body, f.Body)
			setIf(&d.DateFilter.Encoding, f.Encoding)
		}
		a.Lists.apply(&d.Lists)
		a.Activity.apply(&d.Activity)
		if a.Messages != nil {
			setIf(&d.ConversationParam, a.Messages.ConversationParam)
		}
		for kind, fields := range a.Fields {
			if d.Fields[kind] == nil {
				d.Fields[kind] = map[string]string{}
			}
			maps.Copy(d.Fields[kind], fields)
		}
	}
	if err := d.Validate(prefix); err != nil {
		var ke *catalog.KeyError
		if errors.As(err, &ke) {
			return d, &Error{Key: ke.Key, Problem: ke.Problem, Fix: "see config.example.yaml, section api"}
		}
		return d, err
	}
	return d, nil
}

func (p *filePaging) apply(to *catalog.Paging) {
	if p == nil {
		return
	}
	setIf(&to.PageParam, p.PageParam)
	setIf(&to.SizeParam, p.SizeParam)
	setIf(&to.FirstPage, p.FirstPage)
	setIf(&to.PageSize, p.PageSize)
	setIf(&to.SortParam, p.SortParam)
	setIf(&to.Sort, p.Sort)
	setIf(&to.Items, p.Items)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
