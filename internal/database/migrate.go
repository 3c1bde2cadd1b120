package database

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/passage-cm/passage/migrations"
)

// Migrator applies the embedded migrations to one database as its owner.
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator connects to the database at adminURL (a postgres:// URL).
func NewMigrator(adminURL string) (*Migrator, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: read embedded migrations: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return nil, errors.New("migrate: DATABASE_URL must be a postgres:// URL")
	}
	u.Scheme = "pgx5"
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", redactURL(err, adminURL))
	}
	return &Migrator{m: m}, nil
}

// Up applies every migration not yet applied.
func (m *Migrator) Up() error {
	if err := m.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down reverts the newest applied migration.
func (m *Migrator) Down() error {
	if err := m.m.Steps(-1); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Version reports the applied version and whether a failed migration left it dirty.
func (m *Migrator) Version() (version uint, dirty bool, err error) {
	version, dirty, err = m.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return version, dirty, err
}

// Close releases the migrator's connections.
func (m *Migrator) Close() error {
	srcErr, dbErr := m.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Migrate is NewMigrator, Up and Close in one call.
func Migrate(adminURL string) error {
	m, err := NewMigrator(adminURL)
	if err != nil {
		return err
	}
	return errors.Join(m.Up(), m.Close())
}

// redactURL keeps a connection string (which may hold a password) out of an error message.
func redactURL(err error, dsn string) error {
	if !strings.Contains(err.Error(), dsn) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), dsn, "<DATABASE_URL>"))
}
