package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/engage-etl/engage-etl/internal/load"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "migrate", "migrate [--config FILE] up | down [N] | version | force VERSION\n\n"+
		"  up             apply every pending migration, and grant the BI reader role\n"+
		"  down [N]       revert the last N migrations (all when N is omitted)\n"+
		"  version        print the applied version and the latest this binary knows\n"+
		"  force VERSION  record VERSION as applied and clean, running nothing: after a\n"+
		"                 migration failed half-way and the database was repaired by hand")
	c.register(fs, "warn")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{fmt.Errorf("migrate: say up, down [N], version or force VERSION")}
	}
	n := 0
	switch rest[0] {
	case "force":
		if len(rest) != 2 {
			return usageError{fmt.Errorf("migrate force takes one version number")}
		}
		v, err := strconv.Atoi(rest[1])
		if err != nil || v < 0 || uint(v) > load.LatestVersion() {
			return usageError{fmt.Errorf("migrate force %q: VERSION must be a number from 0 to %d", rest[1], load.LatestVersion())}
		}
		n = v
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
		return usageError{fmt.Errorf("migrate %q: say up, down [N], version or force VERSION", rest[0])}
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
	case "force":
		err = m.Force(n)
	}
	if err != nil {
		return err
	}
	if rest[0] == "up" {
		reader, err := store.GrantReader(ctx)
		if err != nil {
			return err
		}
		if advice := reader.Advice(); advice != "" {
			fmt.Fprintf(e.stderr, "engage-etl: note: %s\n", advice)
		}
	}
	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	state := ""
	if dirty {
		state = " (dirty: a migration failed half-way; " + load.DirtyAdvice(v) + ")"
	}
	fmt.Fprintf(e.stdout, "warehouse at migration %d of %d%s\n", v, load.LatestVersion(), state)
	return nil
}
