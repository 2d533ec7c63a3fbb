//! `transform-sandbox`: the transformation sandbox of the integration tests, whose own
//! executable is a test harness that cannot serve as one.

fn main() {
    hookline_transform::serve_if_asked();
    eprintln!("usage: transform-sandbox {}", hookline_transform::SANDBOX_ARG);
    std::process::exit(2);
}
