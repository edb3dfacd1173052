// Package migrations embeds the numbered SQL migrations into the binary, so a
// deployed engage-etl can migrate its warehouse without the source tree.
//
// Released files are never edited: a change to the warehouse is a new pair of
// NNNN_name.up.sql / NNNN_name.down.sql files.
package migrations

import "embed"

// FS holds every *.sql migration.
//
//go:embed *.sql
var FS embed.FS
