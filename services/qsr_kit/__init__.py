"""Shared kit of every qsr-platform service: CR spec models, events, db, auth, http, telemetry."""
