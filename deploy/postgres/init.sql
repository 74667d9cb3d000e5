-- One-time preparation of the production PostgreSQL server (run as an administrator, with psql):
--
--     psql "postgresql://admin@db.example:5432/postgres" -v ON_ERROR_STOP=1 -f deploy/postgres/init.sql
--
-- One database and one login role per service, each owning its database; no service can
-- connect to another's database. Set the passwords afterwards from your secret store
-- (ALTER ROLE planning PASSWORD '...'), then put each URL into that service's Secret:
--     postgresql://planning:<password>@db.example:5432/planning?sslmode=require
--
-- ambiti_app is the unprivileged role that read-model queries and projections run as
-- (SET LOCAL ROLE), so that row-level security applies even to the owner. Roles are
-- cluster-wide: it is created once here, and every service role needs it WITH ADMIN OPTION,
-- because each service runs `GRANT ambiti_app TO CURRENT_USER` at start-up, which
-- PostgreSQL 16+ refuses to a plain member.
-- Idempotent: safe to run again.

SELECT 'CREATE ROLE ambiti_app NOLOGIN NOSUPERUSER NOBYPASSRLS'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ambiti_app') \gexec

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = s) \gexec

SELECT format('GRANT ambiti_app TO %I WITH ADMIN OPTION', s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec

SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8''', s, s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = s) \gexec

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec

SELECT format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I', s, s)
FROM unnest(ARRAY['planning', 'finance', 'partnership', 'monitoring']) AS s \gexec
