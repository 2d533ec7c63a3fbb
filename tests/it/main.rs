//! Integration tests against real emulators over HTTP: one binary, modules by capability.

mod api;
mod catalog;
mod deliver;
mod erasures;
mod events;
mod ingest;
mod operational;
mod platform;
mod portal;
mod provision;
mod queue;
mod runner;
mod sender;
mod stats;
mod store;
mod transformations;
