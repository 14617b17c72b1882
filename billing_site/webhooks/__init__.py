"""Outgoing webhooks (issue 14, README "Outgoing webhooks"): endpoints, the fan-out of
outbox events into deliveries, and signed deliveries with retries."""
