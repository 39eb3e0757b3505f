-- The broker refreshes oauth2 tokens (issue 4) and records every attempt in the trail:
-- "refreshed" or "refresh_failed", beside the decisions of fetches.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_outcome_check
  CHECK (outcome IN ('allowed', 'denied', 'error', 'refreshed', 'refresh_failed'));

-- The background refresh looks for oauth2 connections whose token expires soon.
CREATE INDEX connections_oauth_expiry_idx ON connections (expires_at)
  WHERE auth_type = 'oauth2' AND status = 'active';
