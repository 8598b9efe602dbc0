"""Delivery: the one sender (outbox to Telegram, paced) and the update polling loop."""
