-- Webhook secrets are encrypted at rest from this version (SQLite; Hosting/WebhookSecretsAtRest.cs). The key is not in the
-- database, so SQL only marks the secrets stored in clear until now; the start-up step encrypts each marked one once.
UPDATE projects SET webhook_secret = 'plaintext:' || webhook_secret WHERE webhook_secret IS NOT NULL;
UPDATE projects SET previous_webhook_secret = 'plaintext:' || previous_webhook_secret WHERE previous_webhook_secret IS NOT NULL;
UPDATE event_webhooks SET secret = 'plaintext:' || secret;
