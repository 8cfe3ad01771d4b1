-- API tokens expire (issue 12 item 4): each token has its end, set when it is created
-- from the clinic's token lifetime (default 90 days). Tokens made before this
-- migration end 90 days after they were created.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
UPDATE api_tokens SET expires_at = created_at + INTERVAL '90 days';
