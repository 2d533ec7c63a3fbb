//! The sandbox's side: caps its own memory, then answers one request per line of stdin with
//! one reply per line of stdout, keeping the programs it compiled.

use crate::jq::{self, Program};
use crate::sandbox::{MEMORY_CAP_BYTES, Reply, Request};
use hookline_domain::transformations::ProgramError;
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// Programs kept compiled; past it the cache starts again (programs are small to compile).
const PROGRAMS_KEPT: usize = 256;

pub(crate) fn serve() {
    if let Err(error) = rlimit::setrlimit(rlimit::Resource::AS, MEMORY_CAP_BYTES, MEMORY_CAP_BYTES) {
        eprintln!("transform sandbox: could not cap its memory ({error}); refusing to run");
        std::process::exit(3);
    }
    let mut compiled: HashMap<String, Result<Program, ProgramError>> = HashMap::new();
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return };
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(error) => Reply::Failed(format!("the sandbox could not read its request: {error}")),
            Ok(request) => {
                if compiled.len() >= PROGRAMS_KEPT && !compiled.contains_key(&request.program) {
                    compiled.clear();
                }
                let program = compiled.entry(request.program).or_insert_with_key(|code| jq::compile(code));
                match (program, request.input) {
                    (Err(error), _) => Reply::Program(error.clone()),
                    (Ok(_), None) => Reply::Output(serde_json::Value::Null),
                    (Ok(program), Some(input)) => match program.run(input) {
                        Ok(output) => Reply::Output(output),
                        Err(why) => Reply::Failed(why),
                    },
                }
            }
        };
        let Ok(mut text) = serde_json::to_string(&reply) else { return };
        text.push('\n');
        if stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_err() {
            return;
        }
    }
}
