//! Builds the customer portal (`portal/`, a Vite app) and embeds it: the api function serves
//! it at `/portal/`, so the stack stays one deploy. `HOOKLINE_PORTAL_DIST` names an already
//! built portal instead (a machine without Node.js); otherwise `npm` must be on the PATH.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a change to rebuilds the portal (`node_modules` and build output are not sources).
const SOURCES: [&str; 8] =
    ["index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json", "src", "public", "scripts"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let portal = manifest.join("../../portal");
    println!("cargo:rerun-if-env-changed=HOOKLINE_PORTAL_DIST");
    let built = match std::env::var_os("HOOKLINE_PORTAL_DIST") {
        Some(dist) => PathBuf::from(dist),
        None => {
            for source in SOURCES.iter().map(|name| portal.join(name)).filter(|path| path.exists()) {
                println!("cargo:rerun-if-changed={}", source.display());
            }
            let dist = out.join("portal");
            build(&portal, &dist);
            dist
        }
    };
    let table = files_table(&built);
    std::fs::write(out.join("portal_files.rs"), table).expect("write portal_files.rs");
}

/// `npm ci` when the lockfile is newer than what is installed, then the app's build and its
/// compressed copies into `dist`.
fn build(portal: &Path, dist: &Path) {
    let installed = portal.join("node_modules/.package-lock.json");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|meta| meta.modified()).ok();
    if modified(&installed) < modified(&portal.join("package-lock.json")) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(portal));
    }
    let out_dir = dist.to_str().expect("OUT_DIR is UTF-8");
    run(Command::new("npm").args(["run", "build", "--", "--outDir", out_dir, "--emptyOutDir"]).current_dir(portal));
    run(Command::new("node").arg("scripts/compress.mjs").arg(dist).current_dir(portal));
}

fn run(command: &mut Command) {
    let shown = format!("{command:?}");
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{shown} failed ({status}): the portal did not build"),
        Err(error) => panic!(
            "{shown} could not start ({error}): building the api function builds the portal, which needs Node.js and npm \
             (or set HOOKLINE_PORTAL_DIST to a built portal)"
        ),
    }
}

/// Every built file as a `PortalFile` (see `src/portal.rs`), with its `.br` and `.gz` copies.
fn files_table(dist: &Path) -> String {
    let mut files = Vec::new();
    walk(dist, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    let include = |path: &Path| format!("include_bytes!({:?})", path.display().to_string());
    let compressed = |path: &Path, extension: &str| {
        let copy = PathBuf::from(format!("{}.{extension}", path.display()));
        if copy.exists() { format!("Some({})", include(&copy)) } else { "None".to_string() }
    };
    for path in files.iter().filter(|path| !matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz"))) {
        let name = path.strip_prefix(dist).expect("under dist").to_str().expect("UTF-8 names").replace('\\', "/");
        let _ = writeln!(
            table,
            "    PortalFile {{ path: {name:?}, identity: {}, brotli: {}, gzip: {} }},",
            include(path),
            compressed(path, "br"),
            compressed(path, "gz"),
        );
    }
    table.push(']');
    assert!(files.iter().any(|path| path.ends_with("index.html")), "{} has no index.html", dist.display());
    table
}

fn walk(directory: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(directory).unwrap_or_else(|error| panic!("{}: {error}", directory.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() { walk(&path, files) } else { files.push(path) }
    }
}
