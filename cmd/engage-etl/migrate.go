package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/engage-etl/engage-etl/internal/load"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "migrate", "migrate [--config FILE] up | down [N] | version\n\n"+
		"  up        apply every pending migration\n"+
		"  down [N]  revert the last N migrations (all when N is omitted)\n"+
		"  version   print the applied version and the latest this binary knows")
	c.register(fs, "warn")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{fmt.Errorf("migrate: say up, down [N] or version")}
	}
	n := 0
	switch rest[0] {
	case "up", "version":
		if len(rest) > 1 {
			return usageError{fmt.Errorf("migrate %s takes no argument", rest[0])}
		}
	case "down":
		if len(rest) > 2 {
			return usageError{fmt.Errorf("migrate down takes at most one number")}
		}
		if len(rest) == 2 {
			v, err := strconv.Atoi(rest[1])
			if err != nil || v < 1 {
				return usageError{fmt.Errorf("migrate down %q: N must be a positive number", rest[1])}
			}
			n = v
		}
	default:
		return usageError{fmt.Errorf("migrate %q: say up, down [N] or version", rest[0])}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	m, err := store.NewMigrator()
	if err != nil {
		return err
	}
	defer m.Close()
	switch rest[0] {
	case "up":
		err = m.Up()
	case "down":
		err = m.Down(n)
	}
	if err != nil {
		return err
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed half-way; fix it, then force the version)"
	}
	fmt.Fprintf(e.stdout, "warehouse at migration %d of %d%s\n", v, load.LatestVersion(), state)
	return nil
}
