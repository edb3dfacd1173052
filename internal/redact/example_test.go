package redact_test

import (
	"fmt"

	"github.com/engage-etl/engage-etl/internal/redact"
)

// DSN hides the shape of a secret: the password of scheme://user:pass@host
// and of a password=value pair, even in a URL too malformed to parse.
func ExampleDSN() {
	fmt.Println(redact.DSN("postgres://etl:s3cr3t@db.example.com:5432/engage"))
	fmt.Println(redact.DSN("host=db user=etl password='s3 cr3t' dbname=engage"))
	fmt.Println(redact.DSN("cannot parse `postgres://etl:s3cr3t@db:99999999/engage`: invalid port"))
	fmt.Println(redact.DSN("see https://example.com/a@b")) // no password: unchanged
	// Output:
	// postgres://etl:[redacted]@db.example.com:5432/engage
	// host=db user=etl password=[redacted] dbname=engage
	// cannot parse `postgres://etl:[redacted]@db:99999999/engage`: invalid port
	// see https://example.com/a@b
}

// String hides registered values wherever they appear (an API token in an
// error message, say) as well as what DSN hides.
func ExampleString() {
	redact.Add("example-t0ken-4f9a")
	fmt.Println(redact.String("GET /report: 401 for Bearer example-t0ken-4f9a"))
	fmt.Println(redact.String("dial postgres://etl:pw-example@db/engage: refused"))
	// Output:
	// GET /report: 401 for Bearer [redacted]
	// dial postgres://etl:[redacted]@db/engage: refused
}

// AddDSN registers the password of a connection string, so that String
// hides it even where it is printed alone or percent-decoded.
func ExampleAddDSN() {
	redact.AddDSN("postgres://etl:p%40ss-example-77@db/engage")
	fmt.Println(redact.String("authentication failed for password p@ss-example-77"))
	// Output:
	// authentication failed for password [redacted]
}
