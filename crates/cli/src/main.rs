//! `conclave-cli`: Conclave in a terminal. Scriptable commands on the protocol crate's types
//! (one JSON document with `--json`), with exit codes a script can test.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod api;
mod args;
mod commands;
mod error;
mod gateway;
mod names;
mod output;
mod prompt;
mod session;
mod tail;
mod tui;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use error::CliError;
use output::Out;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "conclave-cli", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let page = clap_mangen::Man::new(Cli::command());
            return match page.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => report(out, &CliError::local("printing the manual", e)),
            };
        }
        _ => {}
    }
    // One TLS provider for HTTPS and WSS alike (the build has more than one, so rustls does
    // not choose by itself), installed before any connection.
    rustls::crypto::aws_lc_rs::default_provider().install_default().ok();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return report(out, &CliError::local("starting", e)),
    };
    let outcome = runtime.block_on(async {
        let mut api = api::Api::new(&cli.server, session::Sessions::from_env()?)?;
        match cli.command {
            Command::Tui => tui::run(api).await,
            Command::Tail { rooms } => tail::run(api, out, &rooms).await,
            command => commands::run(&mut api, out, command).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(out, &error),
    }
}

/// Prints `error` (as JSON on standard output with `--json`, else a sentence on standard
/// error) and answers its exit code.
fn report(out: Out, error: &CliError) -> ExitCode {
    if out.json {
        println!("{}", error.to_json());
    } else {
        eprintln!("conclave-cli: {error}");
    }
    error.exit_code()
}
