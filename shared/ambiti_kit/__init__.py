"""The platform kit of the Uffici di Piano platform.

Small and service-agnostic: settings, auth and tenancy, the CloudEvents envelope, the
outbox relay, the tracked consumer, RLS read-model helpers, the audit hash chain,
problem+json errors and structured logs. It never imports a service.
"""
