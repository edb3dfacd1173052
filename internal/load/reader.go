package load

import (
	"context"
	"fmt"
)

// readerMigration is the first migration that knows the per-database
// reader role (etl.reader_role, etl.grant_reader).
const readerMigration = 6

// ReaderRole is the outcome of GrantReader.
type ReaderRole struct {
	Name    string // this database's reader role
	Granted bool   // false: the role is missing and the user may not create it
	User    string // who ran the migration
	ident   string // Name as an SQL identifier, quoted only if it must be
}

// Advice tells an administrator what to run when the role is missing; empty
// when it is granted.
func (r ReaderRole) Advice() string {
	if r.Granted {
		return ""
	}
	return fmt.Sprintf("the BI reader role %s does not exist and %s may not create roles (no CREATEROLE); "+
		"ask a database administrator to run\n    CREATE ROLE %s NOLOGIN;\n"+
		"then run 'engage-etl migrate up' again: it grants the role read access to the engage and bi schemas",
		r.Name, r.User, r.ident)
}

// GrantReader creates this database's reader role when the user may create
// roles, and grants it read access to the engage and bi schemas. Being at a
// migration before the role existed is not an error (the zero ReaderRole,
// Granted). It is idempotent, so 'migrate up' runs it every time: the grants
// follow as soon as an administrator created the role.
func (s *Store) GrantReader(ctx context.Context) (ReaderRole, error) {
	var v uint
	if err := s.pool.QueryRow(ctx, `SELECT version FROM schema_migrations WHERE NOT dirty`).Scan(&v); err != nil || v < readerMigration {
		return ReaderRole{Granted: true}, nil
	}
	var r ReaderRole
	err := s.pool.QueryRow(ctx, `SELECT etl.reader_role(), quote_ident(etl.reader_role()), etl.grant_reader(), current_user`).Scan(&r.Name, &r.ident, &r.Granted, &r.User)
	if err != nil {
		return r, fmt.Errorf("grant the BI reader role: %w", err)
	}
	return r, nil
}
