//! `hookline-transform`: a transformation sandbox on its own (what tests start; the Lambdas
//! start themselves with `--transform-sandbox` instead).

fn main() {
    hookline_transform::serve_if_asked();
    eprintln!("usage: hookline-transform {}", hookline_transform::SANDBOX_ARG);
    std::process::exit(2);
}
