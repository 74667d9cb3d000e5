-- One-time preparation of the production PostgreSQL server (run as an administrator, with psql):
--
--     psql "postgresql://admin@db.example:5432/postgres" -v ON_ERROR_STOP=1 -f deploy/postgres/init.sql
--
-- One database per service and two login roles per service:
--   <service>_owner  owns the database and every table in it; only the migration (the Deployment's init
--                    container, `python -m ambiti_kit.migrate <service>.main:app`) connects as it;
--   <service>        the runtime role the service connects as: the migration grants it rows (SELECT,
--                    INSERT, UPDATE, DELETE), sequences and membership of ambiti_app, and nothing else.
-- Not owning the tables, the running service cannot drop or disable the append-only triggers, switch off
-- row-level security or alter a table; in production it refuses to start as an owner or a superuser.
-- No service can connect to another's database. Set the passwords afterwards from your secret store
-- (ALTER ROLE planning PASSWORD '...'), then put each URL into that service's Secrets:
--     postgresql://planning:<password>@db.example:5432/planning?sslmode=require         (planning-database)
--     postgresql://planning_owner:<password>@db.example:5432/planning?sslmode=require   (planning-database-owner)
--
-- ambiti_app is the unprivileged role that read-model queries and projections run as
-- (SET LOCAL ROLE), so that row-level security applies even to the owner. Roles are
-- cluster-wide: it is created once here; each owner role holds it WITH ADMIN OPTION, because the
-- migration grants it to the runtime role, which PostgreSQL 16+ refuses to a plain member.
-- Idempotent: safe to run again.

SELECT 'CREATE ROLE ambiti_app NOLOGIN NOSUPERUSER NOBYPASSRLS'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ambiti_app') \gexec

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s,
     unnest(ARRAY[s || '_owner', s]) AS r
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

SELECT format('GRANT ambiti_app TO %I WITH ADMIN OPTION', s || '_owner')
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec

SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8''', s, s || '_owner')
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = s) \gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec

SELECT format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I', s, s || '_owner')
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec

-- the runtime role connects and nothing more: its rights on rows come from the migration
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', s, s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec
