//! jq in this process, by jaq: compiling a program (or saying where it is wrong) and running
//! it on one document. Unbounded in time and memory: only the sandbox process calls it.

use hookline_domain::transformations::ProgramError;
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Native, Vars, data};
use jaq_json::Val;
use serde_json::Value;

type Data = data::JustLut<Val>;

/// Filters of jaq's standard library a transformation may not use: they read the process's
/// environment, the clock or other inputs, stop the process, or write to its stderr. They
/// stay defined (the standard library's own definitions use some) and fail when run.
const DENIED: &[&str] = &["env", "now", "input", "inputs", "halt", "debug_empty", "stderr_empty", "input_filename"];

/// A compiled program.
pub struct Program(jaq_core::compile::Filter<Native<Data>>);

impl std::fmt::Debug for Program {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Program")
    }
}

fn denied<'a>(_: jaq_core::Cv<'a, Data>) -> jaq_core::ValXs<'a, <Data as jaq_core::DataT>::V<'a>> {
    jaq_core::box_iter::box_once(Err(jaq_core::Exn::from(jaq_core::Error::str("not available in transformations"))))
}

const DENIED_RUN: jaq_core::RunPtr<Data> = denied;

/// Compiles `code`, or says where the first error is.
pub fn compile(code: &str) -> Result<Program, ProgramError> {
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs()).map(
        |(name, arity, native): jaq_core::native::Fun<Data>| {
            if DENIED.contains(&name) { (name, arity, Native::<Data>::new(DENIED_RUN)) } else { (name, arity, native) }
        },
    );
    let arena = Arena::default();
    // jaq's errors point into the program by slices of it; anything else counts from 0.
    let at = |part: &str| {
        let (start, from) = (code.as_ptr() as usize, part.as_ptr() as usize);
        if (start..=start + code.len()).contains(&from) { from - start } else { 0 }
    };
    let modules = Loader::new(defs).load(&arena, File { code, path: () }).map_err(|errors| {
        let first = errors.into_iter().next().map(|(_, error)| error);
        match first {
            Some(load::Error::Lex(errors)) => errors
                .into_iter()
                .next()
                .map(|(expected, found)| ProgramError::at(code, at(found), format!("expected {}", expected.as_str()))),
            Some(load::Error::Parse(errors)) => errors.into_iter().next().map(|(expected, found)| {
                let shown = if found.is_empty() { "the end".to_string() } else { format!("`{found}`") };
                ProgramError::at(code, at(found), format!("expected {}, found {shown}", expected.as_str()))
            }),
            Some(load::Error::Io(errors)) => {
                errors.into_iter().next().map(|(path, why)| ProgramError::at(code, at(path), why))
            }
            None => None,
        }
        .unwrap_or_else(|| ProgramError::at(code, 0, "the program does not parse"))
    })?;
    Compiler::default().with_funs(funs).compile(modules).map(Program).map_err(|errors| {
        let first = errors.into_iter().flat_map(|(_, errors)| errors).next();
        match first {
            Some((name, undefined)) => {
                let what = match undefined {
                    jaq_core::compile::Undefined::Filter(arity) => format!("filter `{name}/{arity}`"),
                    jaq_core::compile::Undefined::Var => format!("variable `${name}`"),
                    jaq_core::compile::Undefined::Label => format!("label `{name}`"),
                    jaq_core::compile::Undefined::Mod => format!("module `{name}`"),
                    _ => format!("`{name}`"),
                };
                ProgramError::at(code, at(name), format!("undefined {what}"))
            }
            None => ProgramError::at(code, 0, "the program does not compile"),
        }
    })
}

impl Program {
    /// Runs the program on `input`: its one output, or why there is none.
    pub fn run(&self, input: Value) -> Result<Value, String> {
        let input: Val = serde_json::from_value(input).map_err(|error| format!("the event is not JSON: {error}"))?;
        let context = Ctx::<Data>::new(&self.0.lut, Vars::new([]));
        let mut outputs = self.0.id.run((context, input)).map(jaq_core::unwrap_valr);
        let first = match outputs.next() {
            None => return Err("the program gave no output".into()),
            Some(Err(error)) => return Err(format!("the program failed: {error}")),
            Some(Ok(value)) => value,
        };
        if outputs.next().is_some() {
            return Err("the program gave more than one output".into());
        }
        serde_json::from_str(&first.to_string())
            .map_err(|_| "the program's output is not JSON (a NaN, an infinity or a byte string)".into())
    }
}
