// Command ferretdb-server runs FerretDB v1.24.2 through its embeddable package.
//
// A binary made by `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` panics at
// start-up because the module zip lacks the generated build/version/version.txt. The embeddable
// package skips that check, so the store tests build this program when the installed binary
// fails. It accepts the subset of the ferretdb flags the tests pass; flags it has no use for
// (telemetry, debug listener, state directory) are accepted and ignored, since the embedded
// server has no telemetry reporter and no debug HTTP listener.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI (directory) for the sqlite handler")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler")
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.String("telemetry", "disable", "ignored: the embedded server sends no telemetry")
	flag.String("debug-addr", "-", "ignored: the embedded server has no debug HTTP listener")
	flag.String("state-dir", "-", "ignored: the embedded server keeps no state file")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: invalid --log-level %q: %s\n", *logLevel, err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresqlURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %s\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb-server: listening on %s\n", *listenAddr)

	if err := server.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %s\n", err)
		os.Exit(1)
	}
}
