use clap::Parser;

/// mimalloc returns freed memory to the system; glibc's per-thread arenas keep every 19 MiB
/// Argon2 buffer they ever held (seen: 2.7 GB resident after 2,000 logins).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use conclave_server::config::{Command, Config};
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = Config::parse();
    match &config.command {
        Some(Command::Openapi) => {
            print!("{}", conclave_server::http::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Backup { dir }) => {
            return done(conclave_server::backup::backup(&config, dir).map(|manifest| {
                let held = manifest.contents;
                println!("backed up {held} to {} (manifest.json lists its files)", dir.display());
            }));
        }
        Some(Command::Restore { dir }) => {
            return done(conclave_server::backup::restore(&config, dir).map(|manifest| {
                let (held, made) = (manifest.contents, manifest.created_at.to_rfc3339());
                println!("restored {held} from the backup of {made} into {}", config.data_dir.display());
            }));
        }
        Some(Command::RotateKey { report_every }) => {
            conclave_server::telemetry::init(&config.log, config.log_format);
            let rotated = actix_web::rt::System::new().block_on(conclave_server::key_rotation::rotate(
                &config,
                *report_every,
                |line| println!("{line}"),
            ));
            return match rotated {
                Ok(rotation) => {
                    println!(
                        "rotated: {} data keys wrapped under the new key pair ({} done by an earlier run); {} holds it now",
                        rotation.rewrapped,
                        rotation.already,
                        config.key_file_path().display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("conclave: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Serve) | None => {}
    }
    conclave_server::telemetry::init(&config.log, config.log_format);
    let outcome = actix_web::rt::System::new().block_on(conclave_server::serve(config));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "conclave could not run");
            eprintln!("conclave: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The exit of a one-off command: its error said in a sentence.
fn done(outcome: Result<(), conclave_server::backup::BackupError>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conclave: {error}");
            ExitCode::FAILURE
        }
    }
}
