//! `patina restore <file>`: makes a backup the database of a stopped node.
//!
//! The node keeps its own site id (read from its current database, whose
//! own versions are kept too: see `patina_store::restore`), or gets a new
//! one with `--new-site-id` (for a new host, or when the old database is
//! lost). The restored database is built beside the old one and swapped
//! in only when complete; the old one stays as `patina.db.before-restore`.
//! After starting, the node catches up from the cluster.

use std::path::{Path, PathBuf};

use anyhow::Context;
use patina_store::Reader;

use crate::config::settings::{Origin, Setting};
use crate::config::{Config, Settings};

/// The database file in a data directory.
const DATABASE: &str = "patina.db";

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup to restore (written by `patina backup`).
    file: PathBuf,
    /// The stopped node's data directory [default: the config file's, else
    /// PATINA_DATA_DIR, else ./patina-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The config file to take the data directory from (env
    /// PATINA_CONFIG).
    #[arg(short = 'c', long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Give the restored node a new site id instead of keeping its own
    /// (needed when the data directory has no readable database).
    #[arg(long)]
    new_site_id: bool,
}

impl RestoreArgs {
    fn data_dir(&self) -> anyhow::Result<PathBuf> {
        let file = self.config.clone().or_else(|| {
            std::env::var_os("PATINA_CONFIG")
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let flags = Settings {
            data_dir: self
                .data_dir
                .clone()
                .map(|dir| Setting::new(dir, Origin::Flag("--data-dir"))),
            ..Settings::default()
        };
        Ok(Config::load(file.as_deref(), flags)?.data_dir)
    }
}

#[allow(clippy::print_stdout)]
pub fn run(args: RestoreArgs) -> anyhow::Result<()> {
    let dir = args.data_dir()?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))?;
    let _lock = crate::data_dir::lock(&dir, "restoring into it")?;
    let current = dir.join(DATABASE);
    let previous = if args.new_site_id {
        None
    } else {
        let reader = Reader::open(&current).map_err(|error| {
            anyhow::anyhow!(
                "{} cannot be read ({error}), so the node's own site id and versions are \
                 unknown: restore with --new-site-id to give it a new one",
                current.display()
            )
        })?;
        Some(reader.site_id())
    };
    let building = with_suffix(&current, ".restoring");
    remove_database(&building)?;
    let restored = patina_store::restore(
        &args.file,
        &building,
        previous,
        previous.is_some().then_some(current.as_path()),
    );
    let restored = match restored {
        Ok(restored) => restored,
        Err(error) => {
            let _ = remove_database(&building);
            return Err(error).with_context(|| format!("restoring {} failed", args.file.display()));
        }
    };
    let kept = with_suffix(&current, ".before-restore");
    let had_previous = current.exists();
    if had_previous {
        remove_database(&kept)?;
        move_database(&current, &kept)?;
    }
    move_database(&building, &current)?;
    println!(
        "restored {} into {}: site {} ({}), {} versions from the backup of node {}{}",
        args.file.display(),
        current.display(),
        restored.site_id,
        if previous.is_some() { "kept" } else { "new" },
        restored.versions,
        restored.backup_site_id,
        if restored.own_versions > 0 {
            format!(", {} of its own kept", restored.own_versions)
        } else {
            String::new()
        }
    );
    if !restored.local_tables.is_empty() {
        println!("local tables copied: {}", restored.local_tables.join(", "));
    }
    if had_previous {
        println!("the previous database is kept as {}", kept.display());
    }
    println!("start the node: it catches up from the cluster");
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A SQLite database's files: the database, its WAL and shared memory.
fn files(database: &Path) -> [PathBuf; 3] {
    [
        database.to_owned(),
        with_suffix(database, "-wal"),
        with_suffix(database, "-shm"),
    ]
}

fn remove_database(database: &Path) -> anyhow::Result<()> {
    for file in files(database) {
        match std::fs::remove_file(&file) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {}", file.display()));
            }
            _ => {}
        }
    }
    Ok(())
}

fn move_database(from: &Path, to: &Path) -> anyhow::Result<()> {
    for (from, to) in files(from).into_iter().zip(files(to)) {
        if from.exists() {
            std::fs::rename(&from, &to)
                .with_context(|| format!("renaming {} to {}", from.display(), to.display()))?;
        }
    }
    Ok(())
}
