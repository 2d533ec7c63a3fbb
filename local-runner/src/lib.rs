//! The local stack: reads `template.yaml`, provisions it on an emulator, runs the emulators
//! and the local runner that calls the very same handlers as Lambda.

pub mod emulator;
pub mod operator;
pub mod provision;
pub mod runner;
pub mod sdk;
pub mod template;

pub use emulator::{Emulator, EmulatorError};
pub use provision::{Provisioned, provision, provision_tables};
pub use template::Template;
